# shellcheck shell=bash
# pg-quote.sh - quoting for libpq, sourced by pod-role.sh and
# replica-bootstrap.sh (they ship together in the postgres-scripts ConfigMap).

# conninfo_quote VALUE: VALUE as a single-quoted libpq conninfo value.
conninfo_quote() {
    local v=${1//\\/\\\\}
    v=${v//\'/\\\'}
    printf "'%s'" "$v"
}

# passfile_escape VALUE: VALUE as one field of a libpq password file.
passfile_escape() {
    local v=${1//\\/\\\\}
    printf '%s' "${v//:/\\:}"
}
