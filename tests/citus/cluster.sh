# tests/citus/cluster.sh - a throwaway Citus cluster (a coordinator and two
# workers on free loopback ports) for make test-citus; sourced by run.sh.
#
#   citus_find             checks that citus.so is installed for pg_config's
#                          server, or builds and installs it from $CITUS_SRC;
#                          false (with a message) when neither is possible
#   citus_cluster_start D  initdb + pg_ctl start of coord, w1, w2 under D;
#                          exports PGHOST, PGPORT (the coordinator), PGUSER
#                          and WV_CITUS_WORKERS ("host:port host:port")
#   citus_cluster_stop D   stops the three servers
#   citus_db_create DB     DB on all three nodes with the extension, the
#                          workers added to the coordinator (lib: run.sh
#                          calls it for every test database)
#   citus_db_drop DB       DB dropped on all three nodes
#
# As root the servers run as the postgres account (runuser), as the other
# test scripts' clusters do. Settings: fsync off, shared_preload_libraries
# citus, max_worker_processes 64 (each database with the extension keeps a
# maintenance worker), citus.shard_count $WV_CITUS_SHARDS (default 4: the
# suite creates one cluster-wide schema per test, and 32 shards per table
# would make it slow without testing anything more).

citus_bindir=$(pg_config --bindir)

citus_as_pg()
{
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

citus_find()
{
	local lib
	lib=$(pg_config --pkglibdir)
	if [ -f "$lib/citus.so" ]; then
		return 0
	fi
	if [ -n "${CITUS_SRC:-}" ]; then
		[ -x "$CITUS_SRC/configure" ] || {
			echo "test-citus: CITUS_SRC=$CITUS_SRC holds no Citus source tree (no configure)" >&2
			return 1
		}
		echo "test-citus: building Citus from $CITUS_SRC (README: Running on Citus)" >&2
		(cd "$CITUS_SRC" && { [ -f Makefile.global ] || ./configure; } &&
			nice make -j2 && make install) >&2 || {
			echo "test-citus: the Citus build in $CITUS_SRC failed" >&2
			return 1
		}
		[ -f "$lib/citus.so" ] && return 0
	fi
	echo "test-citus: Citus is not installed for $(pg_config --version)" \
		"($lib/citus.so is missing); install it, or give CITUS_SRC=DIR" \
		"(README: Running on Citus)" >&2
	return 1
}

citus_port()
{
	sh "$WV_TOP/tests/pg-port.sh"
}

citus_cluster_start()
{
	local dir=$1 n port ports=""
	mkdir -p "$dir"
	[ "$(id -u)" = 0 ] && chown postgres: "$dir"
	for n in coord w1 w2; do
		port=$(citus_port)
		citus_as_pg "$citus_bindir/initdb" --nosync -A trust -U postgres \
			-D "$dir/$n" >"$dir/$n.initdb.log" 2>&1 || {
			cat "$dir/$n.initdb.log" >&2
			return 1
		}
		cat >>"$dir/$n/postgresql.conf" <<CONF
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
fsync = off
full_page_writes = off
synchronous_commit = off
shared_preload_libraries = 'citus'
max_worker_processes = 64
max_connections = 200
citus.shard_count = ${WV_CITUS_SHARDS:-4}
lc_messages = 'C'
datestyle = 'iso, mdy'
CONF
		citus_as_pg "$citus_bindir/pg_ctl" -w -t 60 -D "$dir/$n" -l "$dir/$n.log" \
			start >/dev/null || {
			cat "$dir/$n.log" >&2
			return 1
		}
		echo "$port" >"$dir/$n.port"
		[ "$n" = coord ] || ports="$ports 127.0.0.1:$port"
	done
	export PGHOST=127.0.0.1 PGUSER=postgres PGPORT
	PGPORT=$(cat "$dir/coord.port")
	export WV_CITUS_WORKERS=${ports# }
	unset PGPASSWORD PGSERVICE PGDATABASE
}

citus_cluster_stop()
{
	local dir=$1 n
	for n in coord w1 w2; do
		[ -d "$dir/$n" ] &&
			citus_as_pg "$citus_bindir/pg_ctl" -w -D "$dir/$n" -m immediate stop >/dev/null 2>&1
	done
	return 0
}

citus_db_create()
{
	local db=$1 w
	for w in $WV_CITUS_WORKERS; do
		createdb -h "${w%:*}" -p "${w#*:}" "$db" &&
			psql -X -q -h "${w%:*}" -p "${w#*:}" -d "$db" -v ON_ERROR_STOP=1 \
				-c "CREATE EXTENSION citus" || return 1
	done
	createdb "$db" || return 1
	{
		echo "CREATE EXTENSION citus;"
		echo "SELECT citus_set_coordinator_host('$PGHOST', $PGPORT);"
		for w in $WV_CITUS_WORKERS; do
			echo "SELECT citus_add_node('${w%:*}', ${w#*:});"
		done
	} | psql -X -q -d "$db" -v ON_ERROR_STOP=1 >/dev/null
}

citus_db_drop()
{
	local db=$1 w
	dropdb --if-exists "$db" >/dev/null 2>&1
	for w in $WV_CITUS_WORKERS; do
		dropdb --if-exists -h "${w%:*}" -p "${w#*:}" "$db" >/dev/null 2>&1
	done
	return 0
}
