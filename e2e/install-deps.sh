#!/usr/bin/env bash
# Installs what the e2e suite needs (`make test` runs this first): tmux for
# the wizard in a terminal, util-linux unshare and iproute2 ip for the
# private network namespace of the production-path suite. Only what is
# missing, only as root with apt-get; quick when everything is there. It
# never fails the build: a suite that cannot run says so loudly and skips.
set -u

note() { printf 'e2e deps: %s\n' "$*"; }

declare -A pkg=([tmux]=tmux [unshare]=util-linux [ip]=iproute2)
missing=()
for tool in tmux unshare ip; do
	command -v "$tool" >/dev/null 2>&1 || missing+=("${pkg[$tool]}")
done
if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
		note "missing ${missing[*]} and cannot install them (not root, or no apt-get): the e2e tests that need them will SKIP"
	else
		export DEBIAN_FRONTEND=noninteractive
		note "apt-get install ${missing[*]}"
		if ! timeout 600 apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null 2>&1; then
			# A fresh machine may have no package lists yet.
			timeout 300 apt-get update >/dev/null 2>&1
			timeout 600 apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null 2>&1 ||
				note "apt-get install ${missing[*]} failed: the e2e tests that need them will SKIP"
		fi
	fi
fi
if [ "$(id -u)" -ne 0 ]; then
	note "not root: the production-path suite (e2e, unshare --net --mount) will SKIP"
elif ! unshare --net --mount true >/dev/null 2>&1; then
	note "unshare --net --mount does not work here: the production-path suite (e2e) will SKIP"
fi
exit 0
