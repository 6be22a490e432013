# Sourced by the integration tests that need a finished search run: fail, require_tools, check, ends_with, refused,
# dump, small_search_config (writes the small search's config) and small_search, which runs that short search on
# synthetic 8x8 data into runs.db of the current directory (run 1).
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
require_tools() {  # command:debian-package ...: one clear failure naming the package of the first missing command
  local tool
  for tool in "$@"; do
    command -v "${tool%%:*}" > /dev/null ||
      fail "${tool%%:*} is missing: apt-get install --no-install-recommends ${tool#*:} (scripts/setup.sh does)"
  done
}
check() {  # description, expected, actual
  [ "$2" = "$3" ] || fail "$1: expected '$2', got '$3'"
  echo "ok: $1 ($3)"
}
ends_with() {  # exit status, description, expected text on stderr, nas arguments...: one line with that text
  local status="$1" what="$2" text="$3"
  shift 3
  local rc=0
  "$nas" "$@" 2> err.txt > /dev/null || rc=$?
  check "$what: exit status" "$status" "$rc"
  check "$what: one line on stderr" 1 "$(wc -l < err.txt)"
  grep -qF -- "$text" err.txt || fail "$what: stderr does not say '$text': $(cat err.txt)"
}
refused() { ends_with 2 "$@"; }  # bad input: exit 2
dump() { sqlite3 runs.db .dump | sha256sum; }  # contents, not bytes: WAL checkpoints rewrite the file
small_search_config() {  # file, fine-tune epochs: the small search's config (one warm-up, two search epochs)
  cat > "$1" <<YAML
name: small_search
data:
  format: synthetic
  synthetic: {count: 512, height: 8, width: 8, channels: 1, classes: 4, noise: 0.1, seed: 3}
search_space:
  blocks:
    # No depthwise-separable choice on the 1-channel image: its depthwise stage is a 1-channel ReLU bottleneck,
    # which a few epochs of training on 461 images can leave dead (the student of distillation_cli_test was).
    - {name: b1, out: 8, stride: 1, ops: [conv3x3, conv5x5]}
    - {name: b2, out: 16, stride: 2, ops: [conv3x3, conv5x5, dwsep3x3]}
search:
  epochs: {warmup: 1, search: 2, finetune: $2}
  batch_size: 64
  seed: 11
  threads: 1
YAML
}
small_search() {  # nas binary, fine-tune epochs
  small_search_config search.yaml "$2"
  "$1" search --target nano33 --max-latency 1.5ms --config search.yaml --db runs.db 2> search.log > /dev/null ||
    fail "the search failed: $(tail -3 search.log)"
}
