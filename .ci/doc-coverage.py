"""Documentation coverage of a symbol graph: every public symbol of the product must have
a doc comment (its own, or the one of the protocol requirement it implements, which the
symbol graph carries). Prints the coverage; lists the missing ones and exits 1 if any."""
import json
import sys

graph = json.load(open(sys.argv[1]))
symbols = graph["symbols"]
missing = []
for s in symbols:
    if s.get("docComment", {}).get("lines"):
        continue
    loc = s.get("location")
    where = f'{loc["uri"].split("/Sources/", 1)[-1]}:{loc["position"]["line"] + 1}' if loc else "(synthesized)"
    missing.append((where, s["kind"]["displayName"], ".".join(s["pathComponents"])))
covered = len(symbols) - len(missing)
print(f"documentation coverage: {covered} of {len(symbols)} public symbols of QoESim "
      f"({100.0 * covered / max(len(symbols), 1):.1f}%)", file=sys.stderr)
if missing:
    for where, kind, name in sorted(missing):
        print(f"  undocumented: Sources/{where}: {kind} {name}", file=sys.stderr)
    sys.exit(1)
