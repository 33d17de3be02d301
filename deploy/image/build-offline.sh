#!/usr/bin/env bash
# Builds the Switchboard image twice without any registry — deploy/image/Dockerfile with podman, and the launcher's
# Jib profile (mvn -Pimage) — both on a FROM-scratch base made on this machine (a jlinked Java 17 runtime and the
# libraries it links). Then proves what can be proven where containers cannot run (podman run fails in this sandbox
# on crun's setrlimit): each image's config and filesystem, and its exact entrypoint command line run as the
# image's user on the image's own root filesystem — chroot, the JVM as PID 1 of a new PID namespace, /tmp a tmpfs
# like the pods' emptyDir, a 1 GiB memory cgroup for the heap sizing — health on the operations port, a token from
# the auth API, SIGTERM to PID 1 and the exit.
#
#   deploy/image/build-offline.sh      (as root, from anywhere, after `mvn -B -DskipTests package`)
#
# Needs podman (apt-get install podman), util-linux (unshare), curl, python3, Maven and the JDK's jlink. Not part
# of `mvn verify`; prints PASS/FAIL per check and exits with the number of failures.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
jar="$repo/launcher/target/switchboard.jar"
work="$here/target"
base=localhost/switchboard-base:jlink
fails=0
pass() { echo "PASS  $*"; }
fail() { echo "FAIL  $*"; fails=$((fails + 1)); }
step() { echo "==> $*"; }

[ "$(id -u)" = 0 ] || { echo "run as root (podman image mount, chroot, cgroups)"; exit 2; }
[ -f "$jar" ] || { echo "$jar missing: mvn -B -DskipTests package first"; exit 2; }
command -v podman >/dev/null || { echo "podman missing: apt-get install -y podman"; exit 2; }
java_home=$(dirname "$(dirname "$(readlink -f "$(command -v javac || command -v java)")")")
[ -x "$java_home/bin/jlink" ] || { echo "no jlink in $java_home"; exit 2; }

step "root filesystem: jlinked runtime + the libraries it links ($work/base/rootfs)"
rm -rf "$work/base"
rootfs="$work/base/rootfs"
mkdir -p "$rootfs"/{etc,tmp,proc,sys,dev,app}
chmod 1777 "$rootfs/tmp"
"$java_home/bin/jlink" --add-modules java.se,jdk.crypto.ec,jdk.management,jdk.unsupported,jdk.naming.dns,jdk.zipfs,jdk.jfr \
  --strip-debug --no-header-files --no-man-pages --compress=2 --output "$rootfs/opt/java/openjdk"
# Conscrypt's JNI library ships inside the jar and is unpacked to /tmp at run time: it must find its libraries too
unzip -q -o -j "$jar" 'META-INF/native/libconscrypt_openjdk_jni-linux-x86_64.so' -d "$work/base/native"
{ find "$rootfs/opt/java/openjdk" -type f \( -name '*.so' -o -perm -u+x \); echo "$work/base/native/libconscrypt_openjdk_jni-linux-x86_64.so"; } |
  while read -r f; do ldd "$f" 2>/dev/null | grep -o '/[^ ]*\.so[^ ]*' || true; done | sort -u |
  while read -r lib; do
    case "$lib" in "$rootfs"*|"$work"*) continue ;; esac
    mkdir -p "$rootfs$(dirname "$lib")"
    cp -L "$lib" "$rootfs$lib"
  done
printf 'root:x:0:0:root:/root:/sbin/nologin\nswitchboard:x:10001:10001:switchboard:/app:/sbin/nologin\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\nswitchboard:x:10001:\n' >"$rootfs/etc/group"
printf 'hosts: files dns\n' >"$rootfs/etc/nsswitch.conf"
printf '127.0.0.1 localhost\n' >"$rootfs/etc/hosts"
podman build -q -t "$base" -f "$here/Containerfile.jlink-base" "$work/base" >/dev/null
podman save -q --format docker-archive -o "$work/base/base.tar" "$base"

step "build: deploy/image/Dockerfile (podman) and the Jib profile (mvn -Pimage), both on that base"
rm -f "$repo/launcher/target/jib-image.tar"
(cd "$repo" && mvn -B -q -pl launcher -am -Pimage -DskipTests package -Djib.from.image="tar://$work/base/base.tar" \
  -Djib.to.image=localhost/switchboard:jib) >"$work/jib.log" 2>&1 || { cat "$work/jib.log"; fail "mvn -Pimage"; }
podman load -q -i "$repo/launcher/target/jib-image.tar" >/dev/null
# after the Maven run, which repackages the jar the Dockerfile copies
podman build -q --build-arg BASE="$base" -t localhost/switchboard:dockerfile -f "$here/Dockerfile" "$repo/launcher/target" >/dev/null

# run a command inside the mounted image root as uid 10001, in new mount + PID namespaces (so it is PID 1 as in a
# pod). The image has no env binary: the environment is set outside and chroot finds java on the image's PATH.
in_image() { # $1 = mounted root, $2 = log file, rest = command; extra environment from $SB_ENV (VAR=value words)
  local root=$1 log=$2; shift 2
  unshare --mount --pid --fork --propagation private sh -c '
    root=$1; shift
    mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"; mount -t proc proc "$root/proc"; mount --rbind /dev "$root/dev"
    mount --rbind /sys "$root/sys"
    exec env -i PATH=/opt/java/openjdk/bin JAVA_HOME=/opt/java/openjdk HOME=/app $SB_ENV /usr/sbin/chroot --userspec=10001:10001 "$root" "$@"
  ' sh "$root" "$@" >"$log" 2>&1
}

prove() { # $1 = image, $2 = how the entrypoint names the application (a regex over its JSON)
  local image=$1 app=$2 log="$work/$(echo "$1" | tr '/:' '__')"
  echo; step "$image: config"
  local user entry ports
  user=$(podman image inspect "$image" --format '{{.Config.User}}')
  [ "$user" = "10001:10001" ] && pass "user is $user (non-root)" || fail "user is '$user'"
  entry=$(podman image inspect "$image" --format '{{json .Config.Entrypoint}}')
  echo "      entrypoint $entry"
  grep -q '"-XX:MaxRAMPercentage=60"' <<<"$entry" && grep -q '"--add-opens","java.base/java.lang=ALL-UNNAMED"' <<<"$entry" \
    && grep -q '^\["java",' <<<"$entry" && grep -Eq "$app" <<<"$entry" \
    && pass "exec-form entrypoint: java with the module flags and MaxRAMPercentage" || fail "entrypoint: $entry"
  ports=$(podman image inspect "$image" --format '{{json .Config.ExposedPorts}}')
  local p ok=1
  for p in 8080 8081 9090 5701 5801; do grep -q "\"$p/tcp\"" <<<"$ports" || { fail "port $p not exposed"; ok=0; }; done
  [ $ok = 1 ] && pass "exposes $ports"

  step "$image: podman run (fails in this sandbox on crun's setrlimit)"
  if timeout 60 podman run --rm "$image" --help >"$log-podman-run.log" 2>&1; then
    pass "podman run works here"
  else
    echo "      podman run failed: $(grep -m1 -i -E 'error|crun|runc' "$log-podman-run.log" || tail -1 "$log-podman-run.log")"
  fi

  step "$image: filesystem (podman image mount)"
  local mnt
  mnt=$(podman image mount "$image")
  if [ -f "$mnt/app/switchboard.jar" ]; then
    cmp -s "$mnt/app/switchboard.jar" "$jar" && pass "/app/switchboard.jar is the built jar" || fail "/app/switchboard.jar differs"
    local mode; mode=$(stat -c '%a %u' "$mnt/app/switchboard.jar")
    [ "$mode" = "444 0" ] && pass "the jar is read-only and owned by root ($mode)" || fail "jar mode/owner $mode"
  else
    [ -f "$mnt/app/jib-classpath-file" ] && [ -d "$mnt/app/libs" ] && [ -d "$mnt/app/classes/io/switchboard/launcher" ] \
      && pass "Jib layout: /app/classes, /app/libs ($(ls "$mnt/app/libs" | wc -l) jars), /app/jib-classpath-file" || fail "no application in /app"
  fi
  [ -x "$mnt/opt/java/openjdk/bin/java" ] && pass "java at /opt/java/openjdk/bin/java" || fail "no java"

  local -a argv flags
  mapfile -t argv < <(python3 -c 'import json,sys; print("\n".join(json.loads(sys.argv[1])))' "$entry")
  # the JVM flags alone: the entrypoint up to its last -XX option
  mapfile -t flags < <(python3 -c 'import json,sys; a=json.loads(sys.argv[1]); i=max(i for i,x in enumerate(a) if x.startswith("-XX:")); print("\n".join(a[:i+1]))' "$entry")

  export SB_ENV=""
  step "$image: the runtime starts in the image"
  in_image "$mnt" "$log-java-version.log" java -version && pass "$(head -1 "$log-java-version.log")" || { fail "java -version"; cat "$log-java-version.log"; }

  step "$image: heap sized from the container's memory (1 GiB memory cgroup, MaxRAMPercentage=60)"
  local cg=/sys/fs/cgroup/memory/switchboard-image-check heap
  if [ -d /sys/fs/cgroup/memory ] && mkdir -p "$cg" 2>/dev/null && echo $((1024 * 1024 * 1024)) >"$cg/memory.limit_in_bytes"; then
    heap=$( (echo $BASHPID >"$cg/cgroup.procs"; in_image "$mnt" "$log-flags.log" "${flags[@]}" -XX:+PrintFlagsFinal -version || true
      grep -E ' MaxHeapSize ' "$log-flags.log" | awk '{print $4}') )
    [ -n "$heap" ] && [ "$heap" -le $((650 * 1024 * 1024)) ] && [ "$heap" -ge $((550 * 1024 * 1024)) ] \
      && pass "max heap $((heap / 1024 / 1024)) MiB = 60% of the 1 GiB limit (the machine has $(free -g | awk '/Mem:/{print $2}') GiB)" || fail "max heap '$heap'"
    rmdir "$cg" 2>/dev/null || true
  else
    echo "      no writable cgroup v1 memory controller here: not checked"
  fi

  step "$image: the exact entrypoint: start, health on the operations port, a token, SIGTERM to PID 1"
  local ops=19190 auth=19181 holder ready="" jpid uid nspid t0 code ms
  export SB_ENV="SWITCHBOARD_GATEWAY_PORT=19180 SWITCHBOARD_AUTH_PORT=$auth SWITCHBOARD_OPERATIONS_PORT=$ops SWITCHBOARD_ADMIN_KEY=image-check-key"
  in_image "$mnt" "$log-run.log" "${argv[@]}" &
  holder=$!
  for _ in $(seq 1 240); do
    if curl -fsS "http://127.0.0.1:$ops/health/ready" >/dev/null 2>&1; then ready=yes; break; fi
    kill -0 $holder 2>/dev/null || break
    sleep 0.5
  done
  [ -n "$ready" ] && pass "/health/ready answers 200 on the operations port" || { fail "never ready"; tail -20 "$log-run.log"; }
  curl -fsS "http://127.0.0.1:$ops/health/live" >/dev/null && pass "/health/live answers 200" || fail "/health/live"
  curl -fsS -X POST "http://127.0.0.1:$auth/v1/tokens" -H 'x-api-key: image-check-key' -H 'content-type: application/json' \
    -d '{"subject":"image","grants":[{"channel":"*","capabilities":["subscribe"]}]}' | grep -q '"token"' \
    && pass "the auth API mints a token (ES256 signing works in the image)" || fail "token"
  jpid=$(pgrep -P "$(pgrep -P $holder | head -1)" | head -1)
  uid=$(awk '/^Uid:/{print $2}' "/proc/$jpid/status")
  nspid=$(awk '/^NSpid:/{print $NF}' "/proc/$jpid/status")
  [ "$uid" = 10001 ] && pass "the JVM runs as uid $uid" || fail "JVM uid $uid"
  [ "$nspid" = 1 ] && pass "the JVM is PID 1 of its PID namespace, as in a container" || fail "JVM is PID $nspid in its namespace"
  t0=$(date +%s%N)
  kill -TERM "$jpid"
  code=0
  wait $holder || code=$?
  ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  [ "$code" = 143 ] && pass "SIGTERM reached the JVM (PID 1 exits only through its own handler): exit 143 after $ms ms" \
    || fail "exit code $code after SIGTERM"
  podman image unmount "$image" >/dev/null
}

prove localhost/switchboard:dockerfile '"-jar","/app/switchboard.jar"\]$'
prove localhost/switchboard:jib '"-cp","@/app/jib-classpath-file","io.switchboard.launcher.Main"\]$'

echo
[ $fails = 0 ] && echo "ALL CHECKS PASSED" || echo "$fails CHECK(S) FAILED"
exit $fails
