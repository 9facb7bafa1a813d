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

_lib.PQconnectdb.argtypes = [ctypes.c_char_p]
_lib.PQconnectdb.restype = ctypes.c_void_p
_lib.PQstatus.argtypes = [ctypes.c_void_p]
_lib.PQstatus.restype = ctypes.c_int
_lib.PQerrorMessage.argtypes = [ctypes.c_void_p]
_lib.PQerrorMessage.restype = ctypes.c_char_p
_lib.PQfinish.argtypes = [ctypes.c_void_p]
_lib.PQfinish.restype = None
_lib.PQexec.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
_lib.PQexec.restype = ctypes.c_void_p
_lib.PQresultStatus.argtypes = [ctypes.c_void_p]
_lib.PQresultStatus.restype = ctypes.c_int
_lib.PQresultErrorMessage.argtypes = [ctypes.c_void_p]
_lib.PQresultErrorMessage.restype = ctypes.c_char_p
_lib.PQntuples.argtypes = [ctypes.c_void_p]
_lib.PQntuples.restype = ctypes.c_int
_lib.PQnfields.argtypes = [ctypes.c_void_p]
_lib.PQnfields.restype = ctypes.c_int
_lib.PQgetvalue.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
_lib.PQgetvalue.restype = ctypes.c_char_p
_lib.PQgetisnull.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
_lib.PQgetisnull.restype = ctypes.c_int
_lib.PQclear.argtypes = [ctypes.c_void_p]
_lib.PQclear.restype = None

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
