"""A minimal PostgreSQL client: libpq (libpq.so.5) through ctypes.

The lifecycle test's clients open a connection per read and write dozens of
times a second. Neither psycopg nor psycopg2 is installed here, and a psql
process per statement costs about 100 ms of wall time and 30 ms of CPU on
the 2-core test machine: more than the 1 s budgets it measures can absorb.
libpq itself is already installed (libpq-dev, postgresql-client-15), and
ctypes releases the GIL around each call, so client threads run in
parallel.

Only what the test needs: connect, run one statement, read text values,
close. Every failure is a PqError with libpq's message.
"""

import ctypes
import ctypes.util

_name = ctypes.util.find_library("pq") or "libpq.so.5"
_lib = ctypes.CDLL(_name)

# Each libpq function used: (argument types, result type).
C = ctypes
_SIGNATURES = {
    "PQconnectdb": ([C.c_char_p], C.c_void_p),
    "PQstatus": ([C.c_void_p], C.c_int),
    "PQerrorMessage": ([C.c_void_p], C.c_char_p),
    "PQfinish": ([C.c_void_p], None),
    "PQexec": ([C.c_void_p, C.c_char_p], C.c_void_p),
    "PQresultStatus": ([C.c_void_p], C.c_int),
    "PQresultErrorMessage": ([C.c_void_p], C.c_char_p),
    "PQntuples": ([C.c_void_p], C.c_int),
    "PQnfields": ([C.c_void_p], C.c_int),
    "PQgetvalue": ([C.c_void_p, C.c_int, C.c_int], C.c_char_p),
    "PQgetisnull": ([C.c_void_p, C.c_int, C.c_int], C.c_int),
    "PQclear": ([C.c_void_p], None),
}
for _fn, (_args, _res) in _SIGNATURES.items():
    getattr(_lib, _fn).argtypes = _args
    getattr(_lib, _fn).restype = _res

_CONNECTION_OK = 0
_PGRES_COMMAND_OK = 1
_PGRES_TUPLES_OK = 2


class PqError(Exception):
    pass


def _text(raw):
    return (raw or b"").decode(errors="replace").strip()


class Connection:
    """One libpq connection; not shared between threads."""

    def __init__(self, conninfo):
        self._conn = _lib.PQconnectdb(conninfo.encode())
        if not self._conn:
            raise PqError("out of memory")
        if _lib.PQstatus(self._conn) != _CONNECTION_OK:
            message = _text(_lib.PQerrorMessage(self._conn))
            self.close()
            raise PqError(message or "connection failed")

    def query(self, sql):
        """Runs sql; returns its rows as lists of str (None for NULL)."""
        if not self._conn:
            raise PqError("connection closed")
        res = _lib.PQexec(self._conn, sql.encode())
        if not res:
            raise PqError(_text(_lib.PQerrorMessage(self._conn)) or "no result")
        try:
            status = _lib.PQresultStatus(res)
            if status not in (_PGRES_COMMAND_OK, _PGRES_TUPLES_OK):
                raise PqError(_text(_lib.PQresultErrorMessage(res)) or
                              f"result status {status}")
            rows = []
            for r in range(_lib.PQntuples(res)):
                rows.append([None if _lib.PQgetisnull(res, r, c) else
                             _lib.PQgetvalue(res, r, c).decode()
                             for c in range(_lib.PQnfields(res))])
            return rows
        finally:
            _lib.PQclear(res)

    def ok(self):
        return bool(self._conn) and _lib.PQstatus(self._conn) == _CONNECTION_OK

    def close(self):
        if self._conn:
            _lib.PQfinish(self._conn)
            self._conn = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __del__(self):
        try:
            self.close()
        except Exception:  # noqa: BLE001 - at interpreter exit
            pass
