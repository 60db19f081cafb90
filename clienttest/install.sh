#!/usr/bin/env bash
# Installs the real Microsoft clients the client suite (clienttest) drives:
#   npm:    @azure/msal-node, @pnp/cli-microsoft365 (package-lock.json) into clienttest/node_modules
#   Debian: python3-msal, azure-cli (only if missing; needs root)
#
# Where clients are required (CI sets CI=true; .ci/run also exports
# ENTRA_LINK_REQUIRE_CLIENTS=1), a client that cannot be installed fails
# this script, loudly. Elsewhere it says which client will be skipped and
# goes on, so that `make test` works on a machine without root or npm.
set -u
cd "$(dirname "$0")"

strict=no
if [ "${CI:-}" = true ] || [ "${ENTRA_LINK_REQUIRE_CLIENTS:-}" = 1 ]; then
	strict=yes
fi
failed=()

note() { printf 'clients: %s\n' "$*"; }
missing() {
	failed+=("$1")
	if [ "$strict" = yes ]; then
		note "ERROR: $2"
	else
		note "$2; its tests will skip"
	fi
}
elapsed() { printf '%ds' $(($(date +%s) - $1)); }

# npm packages, from the committed lockfile.
t0=$(date +%s)
if ! command -v npm >/dev/null 2>&1; then
	missing npm "npm not found: cannot install MSAL Node and the CLI for Microsoft 365"
elif [ -f node_modules/.package-lock.json ] && [ node_modules/.package-lock.json -nt package-lock.json ]; then
	note "npm packages up to date"
else
	note "npm ci (MSAL Node, CLI for Microsoft 365)"
	if timeout 600 npm ci --no-audit --no-fund --loglevel=error; then
		note "npm ci took $(elapsed "$t0")"
	else
		missing npm "npm ci failed: MSAL Node and the CLI for Microsoft 365 are not installed"
	fi
fi

# Debian packages, only those missing.
t0=$(date +%s)
need=()
for p in python3-msal azure-cli; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -eq 0 ]; then
	note "Debian packages present (python3-msal, azure-cli)"
elif [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
	missing "${need[*]}" "not root or no apt-get: cannot install ${need[*]}"
else
	export DEBIAN_FRONTEND=noninteractive
	updated=no
	for p in "${need[@]}"; do
		note "apt-get install -y $p"
		until timeout 900 apt-get install -y --no-install-recommends "$p" >/dev/null; do
			# A fresh machine may have no package lists yet: update once.
			if [ "$updated" = no ] && timeout 300 apt-get update >/dev/null; then
				updated=yes
				continue
			fi
			missing "$p" "apt-get install $p failed"
			break
		done
	done
	note "Debian packages took $(elapsed "$t0")"
fi

if [ ${#failed[@]} -gt 0 ] && [ "$strict" = yes ]; then
	note "ERROR: the client suite needs ${failed[*]}, and clients are required here (CI=${CI:-}, ENTRA_LINK_REQUIRE_CLIENTS=${ENTRA_LINK_REQUIRE_CLIENTS:-})"
	exit 1
fi
exit 0
