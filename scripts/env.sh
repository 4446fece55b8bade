# Sourced by the scripts: tool paths and the browser-test environment.
export PATH="$PWD/.tools/node_modules/.bin:$HOME/.cargo/bin:$PATH"
export CHROMEDRIVER="${CHROMEDRIVER:-/usr/bin/chromedriver}"
export WASM_BINDGEN_TEST_TIMEOUT="${WASM_BINDGEN_TEST_TIMEOUT:-180}"
export ATTUNE_DATA="${ATTUNE_DATA:-$(cd .. && pwd)/shared/data}"
