#!/usr/bin/env bash
# Writes Docs/COMMANDS.md from the built qoesim's own help (`qoesim reference`).
# CLITests fails when the committed page differs from it: run this after changing a help text.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .build/release/qoesim ] || swift build -c release --product qoesim >&2
.build/release/qoesim reference > Docs/COMMANDS.md.tmp && mv Docs/COMMANDS.md.tmp Docs/COMMANDS.md
echo "wrote Docs/COMMANDS.md ($(wc -l < Docs/COMMANDS.md) lines)" >&2
