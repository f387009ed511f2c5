#!/bin/sh
# Install the Debian packages knutepunkt builds against, only those missing.
# Run by make on a new machine; safe to run again.
set -e
need=""
check() { # header package
	[ -e "/usr/include/$1" ] || need="$need $2"
}
check lmdb.h liblmdb-dev
check msgpack.h libmsgpack-dev
check zmq.h libzmq3-dev
check sodium.h libsodium-dev
check jansson.h libjansson-dev
check microhttpd.h libmicrohttpd-dev
command -v pkg-config >/dev/null 2>&1 || need="$need pkg-config"
# The web tests talk HTTP with curl.
command -v curl >/dev/null 2>&1 || need="$need curl"
[ -e /usr/share/zoneinfo/Europe/Oslo ] || need="$need tzdata"
command -v mdb_stat >/dev/null 2>&1 || need="$need lmdb-utils"
# The command-line tests read --json output with python3's json module.
command -v python3 >/dev/null 2>&1 || need="$need python3"
# The export tests read iCalendar feeds with python3-icalendar.
[ -e /usr/lib/python3/dist-packages/icalendar/__init__.py ] || need="$need python3-icalendar"
if [ -n "$need" ]; then
	echo "install-deps: installing$need"
	if [ "$(id -u)" != 0 ]; then
		echo "install-deps: need root to install$need; run: sudo apt-get install$need" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq $need >/dev/null
fi
