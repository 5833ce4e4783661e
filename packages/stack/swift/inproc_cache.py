"""In-process stand-in for swift's memcache middleware (one proxy process, no memcached).

Sets ``env['swift.cache']`` to a dict-backed object with the MemcacheRing methods that the
proxy, tempauth and s3api call. Values are JSON round-tripped like the real client does.
"""
import json
import time

_MAX_RELATIVE = 30 * 24 * 60 * 60  # memcached treats larger TTLs as absolute timestamps


def _expiry(ttl):
    ttl = int(ttl or 0)
    if ttl <= 0:
        return None
    if ttl > _MAX_RELATIVE:
        return float(ttl)
    return time.time() + ttl


class InProcessCache(object):
    def __init__(self, max_items=100000):
        self._data = {}
        self._max_items = max_items

    def _live(self, key):
        item = self._data.get(key)
        if item is None:
            return None
        if item[1] is not None and item[1] <= time.time():
            self._data.pop(key, None)
            return None
        return item

    def _store(self, key, value, ttl):
        if len(self._data) >= self._max_items and key not in self._data:
            now = time.time()
            for k in [k for k, v in self._data.items() if v[1] is not None and v[1] <= now]:
                del self._data[k]
            if len(self._data) >= self._max_items:
                self._data.clear()
        self._data[key] = (value, _expiry(ttl))

    def set(self, key, value, serialize=True, time=0, min_compress_len=0, raise_on_error=False):
        if serialize:
            if isinstance(value, bytes):
                value = value.decode('utf8')
            value = json.dumps(value)
        elif not isinstance(value, bytes):
            value = str(value).encode('utf-8')
        self._store(key, (serialize, value), time)

    def get(self, key, raise_on_error=False):
        item = self._live(key)
        if item is None:
            return None
        serialized, value = item[0]
        return json.loads(value) if serialized else value

    def incr(self, key, delta=1, time=0):
        item = self._live(key)
        current = 0
        if item is not None:
            try:
                raw = item[0][1]
                current = int(json.loads(raw) if item[0][0] else raw)
            except (TypeError, ValueError):
                current = 0
        value = max(0, current + int(delta))
        self._store(key, (False, str(value).encode('ascii')), time)
        return value

    def decr(self, key, delta=1, time=0):
        return self.incr(key, delta=-delta, time=time)

    def delete(self, key, server_key=None):
        self._data.pop(key, None)

    def set_multi(self, mapping, server_key, serialize=True, time=0, min_compress_len=0):
        for key, value in mapping.items():
            self.set(key, value, serialize=serialize, time=time)

    def get_multi(self, keys, server_key):
        return [self.get(key) for key in keys]


_SHARED = InProcessCache()


class InProcessCacheMiddleware(object):
    def __init__(self, app, conf):
        self.app = app
        self.memcache = _SHARED

    def __call__(self, env, start_response):
        env['swift.cache'] = self.memcache
        return self.app(env, start_response)


def filter_factory(global_conf, **local_conf):
    conf = global_conf.copy()
    conf.update(local_conf)

    def cache_filter(app):
        return InProcessCacheMiddleware(app, conf)

    return cache_filter
