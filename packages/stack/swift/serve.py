"""Runs Swift's account, container, object and proxy (s3api + tempauth) servers in one
process on loopback.  Used by packages/stack/src/s3-server.ts; run with Debian's python3.

    /usr/bin/python3 serve.py ETC_DIR LOG_FILE PARENT_PID

ETC_DIR holds swift.conf and {account,container,object,proxy}-server.conf (written by the
launcher); the rings are (re)built here from the backends' bind ports.  Prints
``READY <proxy port>`` on stdout once every server is listening.  Exits when its parent
process goes away, so a crashed launcher leaves nothing behind.
"""
import os
import sys
import traceback

ETC_DIR, LOG_FILE, PARENT_PID = sys.argv[1], sys.argv[2], int(sys.argv[3])
BACKENDS = ('account', 'container', 'object')

# Green everything first, as swift.common.utils.eventlet_monkey_patch would: done before
# the big imports, eventlet's scan for pre-existing locks (gc passes) takes ms, not 0.5 s.
# The launcher sets EVENTLET_NO_GREENDNS (everything here is a literal IP): saves dnspython.
import eventlet  # noqa: E402
import eventlet.patcher  # noqa: E402

eventlet.patcher.monkey_patch(all=False, socket=True, select=True, thread=True)

import logging  # noqa: E402
import warnings  # noqa: E402

logging.logThreads = 0
warnings.filterwarnings('ignore', message='capitalize_response_headers is disabled')

# swift.conf lives in ETC_DIR, not /etc/swift: this must happen before anything imports
# swift.common.storage_policy (swift.common.wsgi does), which reads it at import time.
from swift.common import utils  # noqa: E402

assert 'swift.common.storage_policy' not in sys.modules
utils.SWIFT_CONF_FILE = os.path.join(ETC_DIR, 'swift.conf')


class _LogHandler(logging.StreamHandler):
    """Everything to LOG_FILE; warnings and errors also to stderr (the launcher's log)."""

    _file = open(LOG_FILE, 'a', buffering=1, encoding='utf-8', errors='replace')

    def __init__(self, *args, **kwargs):
        logging.StreamHandler.__init__(self, self._file)

    def emit(self, record):
        logging.StreamHandler.emit(self, record)
        # s3api logs "multipart: No SLO middleware in pipeline" for every NotImplemented
        # (bucket policy, tagging...): misleading, so it stays in the file only
        if record.levelno >= logging.WARNING and 'No SLO middleware' not in str(record.msg):
            try:
                sys.stderr.write(self.format(record) + '\n')
                sys.stderr.flush()
            except Exception:
                pass


# get_logger() would log to syslog (/dev/log or UDP 514); send it to our file instead.
utils.ThreadSafeSysLogHandler = _LogHandler
utils.validate_configuration()

import eventlet.wsgi  # noqa: E402
from swift.common import wsgi  # noqa: E402
from swift.common.ring import RingBuilder  # noqa: E402


def build_ring(kind, port):
    builder = RingBuilder(6, 1, 0)  # part power 6, 1 replica, min_part_hours 0
    builder.add_dev({'id': 0, 'region': 1, 'zone': 1, 'ip': '127.0.0.1', 'port': port,
                     'replication_ip': '127.0.0.1', 'replication_port': port,
                     'device': 'd1', 'weight': 100, 'meta': ''})
    builder.rebalance()
    path = os.path.join(ETC_DIR, '%s.ring.gz' % kind)
    tmp = path + '.tmp'
    builder.get_ring().save(tmp)
    os.rename(tmp, path)


def check_xattrs(path):
    """The object server keeps metadata in user xattrs; fail early and clearly without."""
    probe = os.path.join(path, '.xattr-probe')
    try:
        with open(probe, 'wb'):
            pass
        os.setxattr(probe, 'user.swift.probe', b'1')
    except OSError as e:
        sys.stderr.write('the data dir %s does not support user xattrs (%s); put the server dir '
                         'on ext4/xfs/btrfs\n' % (path, e))
        sys.exit(1)
    finally:
        try:
            os.unlink(probe)
        except OSError:
            pass


def serve(name, conf, app, sock):
    try:
        pool = wsgi.RestrictedGreenPool(size=int(conf.get('max_clients', '1024')))
        # the same settings as swift.common.wsgi.run_server
        eventlet.wsgi.server(sock, app, utils.NullLogger(), custom_pool=pool,
                             protocol=wsgi.SwiftHttpProtocol,
                             socket_timeout=float(conf.get('client_timeout') or 60),
                             capitalize_response_headers=False)
    except BaseException:
        traceback.print_exc()
    sys.stderr.write('%s server stopped\n' % name)
    os._exit(1)


def watch_parent():
    while True:
        if os.getppid() != PARENT_PID:
            os._exit(0)
        eventlet.sleep(0.5)


def main():
    os.environ['TZ'] = 'UTC+0'
    import time
    time.tzset()
    eventlet.hubs.use_hub(utils.get_hub())
    eventlet.spawn(watch_parent)

    loaded = []
    for name in BACKENDS + ('proxy',):
        path = os.path.join(ETC_DIR, '%s-server.conf' % name)
        conf = wsgi.appconfig(path, name='%s-server' % name)
        loaded.append((name, path, conf))
    check_xattrs(os.path.join(loaded[2][2]['devices'], 'd1'))
    for name, path, conf in loaded:
        if name in BACKENDS:
            build_ring(name, int(conf['bind_port']))
    servers = []
    for name, path, conf in loaded:
        app = wsgi.loadapp(path, global_conf={'log_name': '%s-server' % name})
        servers.append((name, conf, app))
    # bind the proxy last: once it accepts connections, everything is ready
    for name, conf, app in servers:
        sock = wsgi.get_socket(conf)
        eventlet.spawn(serve, name, conf, app, sock)
    sys.stdout.write('READY %s\n' % loaded[-1][2]['bind_port'])
    sys.stdout.flush()
    while True:
        eventlet.sleep(3600)


if __name__ == '__main__':
    try:
        main()
    except SystemExit:
        raise
    except BaseException:
        traceback.print_exc()
        sys.exit(1)
