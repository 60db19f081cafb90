#!/usr/bin/env bash
# Installs what `make test-clients` needs; never fails the build for a
# client that cannot be installed: that client's tests skip with a message.
#   npm:    @azure/msal-node, @pnp/cli-microsoft365 (package-lock.json) into clienttest/node_modules
#   Debian: python3-msal, azure-cli (only if missing; needs root)
set -u
cd "$(dirname "$0")"

note() { printf 'test-clients: %s\n' "$*"; }

# npm packages, from the committed lockfile.
if ! command -v npm >/dev/null 2>&1; then
	note "npm not found: MSAL Node and CLI for Microsoft 365 tests will skip"
elif [ -f node_modules/.package-lock.json ] && [ node_modules/.package-lock.json -nt package-lock.json ]; then
	note "npm packages up to date"
else
	note "npm ci (MSAL Node, CLI for Microsoft 365)"
	if ! timeout 600 npm ci --no-audit --no-fund --loglevel=error; then
		note "npm ci failed: MSAL Node and CLI for Microsoft 365 tests will skip"
	fi
fi

# Debian packages, only those missing.
missing=()
for p in python3-msal azure-cli; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	note "Debian packages present (python3-msal, azure-cli)"
elif [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
	note "not root or no apt-get: cannot install ${missing[*]}; their tests will skip"
else
	export DEBIAN_FRONTEND=noninteractive
	updated=no
	for p in "${missing[@]}"; do
		note "apt-get install -y $p"
		until timeout 900 apt-get install -y --no-install-recommends "$p" >/dev/null; do
			# A fresh machine may have no package lists yet: update once.
			if [ "$updated" = no ] && timeout 300 apt-get update >/dev/null; then
				updated=yes
				continue
			fi
			note "apt-get install $p failed: its tests will skip"
			break
		done
	done
fi
exit 0
