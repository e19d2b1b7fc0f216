"""Every relative link of the repository's Markdown files (README.md, Docs/, Experiments/,
Benchmarks/, Tests/, Examples/, .ci/) names a file or folder that exists, and every
#anchor into a Markdown file names one of its headings or <a id> anchors. Prints the
broken ones and exits 1 if any."""
import os
import re
import sys

root = sys.argv[1] if len(sys.argv) > 1 else "."
pages = ["README.md"]
for top in ["Docs", "Experiments", "Benchmarks", "Tests", "Examples", ".ci"]:
    for base, dirs, files in os.walk(os.path.join(root, top)):
        dirs[:] = [d for d in dirs if not d.startswith(".build") and d not in ("results", "regressions", "findings", "open-findings")]
        pages += [os.path.relpath(os.path.join(base, f), root) for f in files if f.endswith(".md")]


def anchors(path):
    text = open(os.path.join(root, path), encoding="utf-8").read()
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    out = set(re.findall(r'<a id="([^"]+)"', text))
    for h in re.findall(r"^#+ (.+)$", text, flags=re.M):
        slug = re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-")
        out.add(slug)
    return out


broken = []
for page in sorted(pages):
    text = open(os.path.join(root, page), encoding="utf-8").read()
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    for n, line in enumerate(text.split("\n"), 1):
        for target in re.findall(r"\]\(([^)\s]+)\)", line):
            if re.match(r"[a-z]+:", target):
                continue
            path, _, anchor = target.partition("#")
            full = os.path.normpath(os.path.join(os.path.dirname(page), path)) if path else page
            if not os.path.exists(os.path.join(root, full)):
                broken.append(f"{page}: link to {target}: {full} does not exist")
            elif anchor and full.endswith(".md") and anchor not in anchors(full):
                broken.append(f"{page}: link to {target}: no heading #{anchor} in {full}")
print(f"doc links: {len(pages)} Markdown files checked", file=sys.stderr)
for b in broken:
    print("  broken " + b, file=sys.stderr)
sys.exit(1 if broken else 0)
