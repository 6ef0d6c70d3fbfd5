#!/usr/bin/env bash
# Installs the Debian packages imbill needs, only those missing.  Safe to run
# again; quiet when nothing is missing.
set -eu
pkgs=(gcc make lua5.4 liblua5.4-dev luajit2 libluajit2-5.1-dev lua-busted lua-check luarocks
      lua-argparse lua-dkjson lua-cjson lua-ldoc lua-markdown libxml2-utils chromium valgrind
      python3-lupa python3-ipykernel python3-jupyter-client python3-nbformat jupyter-nbconvert jupyter-notebook
      nginx libnginx-mod-http-lua lua-resty-core lua-nginx-string lua-socket wrk clang libclang-rt-14-dev
      lua-nginx-redis redis-server redis-tools)
[ -n "${IMBILL_DEPS_MIN:-}" ] && pkgs=(gcc make lua5.4 liblua5.4-dev lua-argparse lua-dkjson)
command -v apt-get >/dev/null || { echo "imbill: no apt-get here; install: ${pkgs[*]}" >&2; exit 1; }
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "imbill: installing ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >&2
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
