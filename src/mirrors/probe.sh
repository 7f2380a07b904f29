# rdock-setup's registry mirror probe, run with sh on the target; src/mirrors/curl.rs
# reads what it prints and judges it. Per mirror: GET /v2/, an anonymous token when
# the mirror asks for one, HEAD of the manifest; it stops at the first step that
# cannot go on. Arguments: SCRATCH TIMEOUT IMAGE TAG USER_AGENT ACCEPT MIRROR...
d=$1 t=$2 image=$3 tag=$4 agent=$5 accept=$6
shift 6
i=0

# request STEP URL [CURL ARGS...]: one framed record of what curl got.
request() {
  step=$1 url=$2
  shift 2
  : > "$d/h"; : > "$d/b"; : > "$d/e"
  w=$(curl -sS -L --noproxy '*' -A "$agent" --connect-timeout "$t" --max-time "$t" \
    -D "$d/h" -o "$d/b" -w '%{http_code} %{time_total}' "$@" "$url" 2>"$d/e")
  rc=$?
  code=${w%% *}
  printf '=== %s %s %s %s\n' "$i" "$step" "$rc" "$w"
  tr -d '\r' < "$d/h"
  printf -- '--- body\n'
  if [ "$step" = token ]; then head -c 65536 "$d/b"; echo; fi
  printf -- '--- stderr\n'
  cat "$d/e"
  printf '=== end\n'
}

# header NAME: its last value in what the last request got.
header() {
  tr -d '\r' < "$d/h" | sed -n "s/^$1:[[:space:]]*//Ip" | tail -n 1
}

# token_for CHALLENGE: an anonymous pull token into $auth.
token_for() {
  realm=$(printf '%s' "$1" | sed -n 's/.*[Rr][Ee][Aa][Ll][Mm]="\([^"]*\)".*/\1/p')
  service=$(printf '%s' "$1" | sed -n 's/.*[Ss][Ee][Rr][Vv][Ii][Cc][Ee]="\([^"]*\)".*/\1/p')
  [ -n "$realm" ] || return 1
  if [ -n "$service" ]; then
    request token "$realm" -G --data-urlencode "service=$service" \
      --data-urlencode "scope=repository:$image:pull"
  else
    request token "$realm" -G --data-urlencode "scope=repository:$image:pull"
  fi
  [ "$rc" = 0 ] && [ "$code" = 200 ] || return 1
  auth=$(sed -n 's/.*"token"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p' "$d/b" | head -n 1)
  [ -n "$auth" ] ||
    auth=$(sed -n 's/.*"access_token"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p' "$d/b" | head -n 1)
  [ -n "$auth" ]
}

for m in "$@"; do
  m=${m%/}
  auth=
  go=no
  request api "$m/v2/"
  if [ "$rc" = 0 ] && header Docker-Distribution-API-Version | grep -q '^registry/2\.0'; then
    case $code in
      200) go=yes ;;
      401) token_for "$(header WWW-Authenticate)" && go=yes ;;
    esac
  fi
  if [ "$go" = yes ]; then
    if [ -n "$auth" ]; then
      request manifest "$m/v2/$image/manifests/$tag" -I -H "Accept: $accept" \
        -H "Authorization: Bearer $auth"
    else
      request manifest "$m/v2/$image/manifests/$tag" -I -H "Accept: $accept"
    fi
  fi
  i=$((i + 1))
done
