#!/bin/sh
# sample.crawler.http_server: crawls samples/crawler/testsite served by
# Python's http.server on an ephemeral port of 127.0.0.1 and checks what the
# crawler found: the pages, a broken link (404), off-site links not followed,
# a page robots.txt disallows never fetched.
#
#   http_server_test.sh <crawler> <testsite dir> [python3]
#
# Every wait is bounded; the server is killed by its pid on any exit.
set -u
crawler=$1
site=$2
python=${3:-python3}

work=$(mktemp -d "${TMPDIR:-/tmp}/crawler-test.XXXXXX") || exit 1
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null
    wait "$server_pid" 2>/dev/null
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

failures=0
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

"$python" -u -m http.server --bind 127.0.0.1 0 --directory "$site" \
  >"$work/server.out" 2>"$work/server.log" </dev/null &
server_pid=$!

# "Serving HTTP on 127.0.0.1 port N (http://127.0.0.1:N/) ...": at most 20 s.
port=
tries=0
while [ -z "$port" ]; do
  port=$(sed -n 's/^Serving HTTP on 127\.0\.0\.1 port \([0-9][0-9]*\).*/\1/p' "$work/server.out")
  [ -n "$port" ] && break
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "the server exited:"
    cat "$work/server.out" "$work/server.log"
    exit 1
  fi
  tries=$((tries + 1))
  if [ "$tries" -ge 200 ]; then
    echo "the server did not start within 20 s:"
    cat "$work/server.out" "$work/server.log"
    exit 1
  fi
  sleep 0.1
done
url="http://127.0.0.1:$port/"
echo "server: $url (pid $server_pid)"

# ---- a full crawl --------------------------------------------------------------------
timeout 40 "$crawler" --url "$url" --max-pages 50 --concurrency 4 --timeout 5 --time-limit 30 \
  >"$work/out.txt" 2>"$work/err.txt"
rc=$?
echo "---- crawler --url $url: exit status $rc ----"
cat "$work/out.txt"
[ -s "$work/err.txt" ] && { echo "---- stderr ----"; cat "$work/err.txt"; }
echo "---- server log ----"
cat "$work/server.log"
echo "----"

[ "$rc" -eq 0 ] || fail "exit status $rc, expected 0"
grep -q '^url crawl (4 at a time): 7 pages, 35 links, 1 errors$' "$work/out.txt" ||
  fail "not the crawl line: 7 pages, 35 links, 1 errors"

# The pages found, exactly (a redirect, /docs -> /docs/, is one page).
sed -n '/^pages found/,/^$/p' "$work/out.txt" >"$work/pages.txt"
cat >"$work/pages.expected" <<'PAGES'
pages found (7):
  /
  /about.html
  /docs/
  /docs/guide.html
  /docs/guide.html?x=1&y=2
  /docs/sub/deep.html
  /index.html

PAGES
cmp -s "$work/pages.txt" "$work/pages.expected" || {
  fail "the pages found differ from the expected ones:"
  diff "$work/pages.expected" "$work/pages.txt"
}

grep -Eq '^  /missing\.html +404 File not found$' "$work/out.txt" ||
  fail "the broken link /missing.html is not reported as 404"
grep -q '^robots.txt of http://127.0.0.1:'"$port"': 1 rule (Disallow: /private/)$' "$work/out.txt" ||
  fail "robots.txt's rule for us is not reported"
sed -n '/^not fetched, disallowed by robots.txt (1):$/{n;p;}' "$work/out.txt" |
  grep -qx '  /private/secret.html' ||
  fail "/private/secret.html is not reported as disallowed by robots.txt"
# crawl, concurrency, pages, links, unique, off-site, errors, in flight, seconds
grep -Eq '^  url +4 +7 +35 +10 +5 +1 +[1-4] +[0-9.]+$' "$work/out.txt" ||
  fail "the summary row differs (7 pages, 35 links, 10 unique, 5 off-site, 1 error)"
grep -q '^check: 7 pages from 9 fetches, every URL fetched once' "$work/out.txt" ||
  fail "the crawler's own check did not pass"
# Off-site links are counted, never fetched (a fetch would fail and be listed).
if grep -q 'example\.invalid' "$work/out.txt"; then fail "an off-site URL was fetched"; fi

# What the server saw: robots.txt first, nothing under /private/.
first=$(sed -n 's/.*"GET \([^ ]*\) HTTP.*/\1/p' "$work/server.log" | head -n 1)
[ "$first" = "/robots.txt" ] || fail "the first request was '$first', not /robots.txt"
if grep -q '"GET /private/' "$work/server.log"; then fail "a page under /private/ was fetched"; fi
gets=$(grep -c '"GET ' "$work/server.log")
# robots.txt + 9 pages + /docs/ again (the redirect's target)
[ "$gets" -eq 11 ] || fail "$gets requests reached the server, expected 11"

# ---- a crawl cut short by --max-pages ------------------------------------------------
timeout 40 "$crawler" --url "$url" --max-pages 2 --concurrency 1 --timeout 5 >"$work/short.txt" 2>&1
rc=$?
echo "---- crawler --url $url --max-pages 2 --concurrency 1: exit status $rc ----"
cat "$work/short.txt"
[ "$rc" -eq 0 ] || fail "--max-pages 2: exit status $rc, expected 0"
grep -q '^url crawl (1 at a time): 2 pages, 12 links, 0 errors (truncated by a limit)$' \
  "$work/short.txt" || fail "--max-pages 2 did not stop the crawl after 2 pages"

if [ "$failures" -ne 0 ]; then
  echo "$failures check(s) failed"
  exit 1
fi
echo "all checks passed"
