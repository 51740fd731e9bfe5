#!/bin/sh
# install.sh installs the coding-agent CLIs that TestClients drives through
# llmux, at pinned versions, into a cache directory outside the repository.
#
#   e2e/clients/install.sh            # install (quick no-op when already there)
#   LLMUX_E2E_CACHE=/tmp/x install.sh # somewhere else (default $HOME/.cache/llmux-e2e)
#
# It prints the directory holding the executables (claude, codex, gemini,
# opencode) as its only line on stdout; TestClients looks there by default,
# or wherever LLMUX_E2E_BIN points.
#
# Only the npm registry is contacted, and only here: the CLIs themselves are
# never run by this script. Needs node and npm (Node 20 works: Claude Code,
# Codex and opencode ship native executables in platform packages; npm only
# warns that Claude Code asks for Node 22).
set -eu

# Pinned versions. Bump them together with the wire captures in testdata/
# (go test ./e2e/clients -run TestRecord -record -count=1).
PACKAGES="
@anthropic-ai/claude-code@2.1.330
@openai/codex@0.169.0
@google/gemini-cli@0.61.0
opencode-ai@1.18.33
"

cache=${LLMUX_E2E_CACHE:-${HOME:?HOME is not set}/.cache/llmux-e2e}
# One directory per set of pins, so that changing a version never mixes
# trees and going back to an older set is instant.
stamp=$(printf '%s' "$PACKAGES" | cksum | cut -d' ' -f1)
dir=$cache/npm-$stamp
bin=$dir/node_modules/.bin

installed() {
	[ -f "$dir/.complete" ] || return 1
	for exe in claude codex gemini opencode; do
		[ -x "$bin/$exe" ] || return 1
	done
}

if ! installed; then
	command -v npm >/dev/null 2>&1 || { echo "install.sh: npm is not on PATH" >&2; exit 1; }
	mkdir -p "$dir"
	[ -f "$dir/package.json" ] || printf '{"name":"llmux-e2e-clients","private":true}\n' >"$dir/package.json"
	echo "install.sh: installing into $dir:" $PACKAGES >&2
	start=$(date +%s)
	# --ignore-scripts would leave Claude Code without its native binary
	# (its postinstall puts it in place), so scripts stay on.
	# shellcheck disable=SC2086 # word splitting of the package list is intended
	npm install --prefix "$dir" --no-audit --no-fund --no-update-notifier \
		--loglevel=error --save-exact $PACKAGES >&2
	installed_ok=1
	for exe in claude codex gemini opencode; do
		[ -x "$bin/$exe" ] || { echo "install.sh: $bin/$exe is missing after npm install" >&2; installed_ok=0; }
	done
	[ "$installed_ok" = 1 ] || exit 1
	date >"$dir/.complete"
	echo "install.sh: done in $(( $(date +%s) - start ))s" >&2
fi
echo "$bin"
