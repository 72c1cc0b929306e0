# Sourced by scripts/test and bench/run: `start_moto` runs moto (DynamoDB + SES v2) from the
# project venv on a free loopback port, waits until it answers, exports MOTO_ENDPOINT, and stops
# it when the calling script exits. Its log goes to target/moto.log.
start_moto() {
    local root port
    root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    mkdir -p "$root/target"
    # moto behind a lock: DynamoDB's conditional writes are atomic, moto's threaded server's are not.
    "$root/.venv/bin/python" "$root/scripts/moto_server.py" 127.0.0.1 "$port" >"$root/target/moto.log" 2>&1 &
    MOTO_PID=$!
    trap 'kill "$MOTO_PID" 2>/dev/null || true; wait "$MOTO_PID" 2>/dev/null || true' EXIT
    for _ in $(seq 1 100); do
        if python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/moto-api/')" 2>/dev/null; then
            export MOTO_ENDPOINT="http://127.0.0.1:$port"
            return 0
        fi
        if ! kill -0 "$MOTO_PID" 2>/dev/null; then
            echo "moto did not start:" >&2
            cat "$root/target/moto.log" >&2
            return 1
        fi
        sleep 0.2
    done
    echo "moto did not answer within 20 s" >&2
    return 1
}
