#!/usr/bin/env bash
# Optional system piece for `make setup`: Debian's OpenSSH server, used by the ssh bench backend
# test (a throwaway sshd on 127.0.0.1). Prints why it skips anything and never fails the setup,
# unless EDGEPRUNE_REQUIRE names `ssh` (CI: .ci/run): then what it cannot install fails the setup (exit 1).
set -u
REQ=${EDGEPRUNE_REQUIRE:-}
skipped() {  # skipped REASON [MORE LINES...]: say why, then exit 0, or 1 when ssh is required
    echo "setup-ssh: skipped: $1"
    shift
    local line
    for line in "$@"; do echo "           $line"; done
    case ",${REQ// /}," in
        *,ssh,*) echo "setup-ssh: FAILED: EDGEPRUNE_REQUIRE=$REQ requires sshd (reason above)" >&2; exit 1 ;;
    esac
    exit 0
}

if [ -x /usr/sbin/sshd ]; then
    echo "setup-ssh: sshd present ($(/usr/sbin/sshd -V 2>&1 | head -n1))"
    if ! command -v ssh >/dev/null 2>&1 || ! command -v ssh-keygen >/dev/null 2>&1; then
        skipped "the OpenSSH client (ssh, ssh-keygen) is missing: apt-get install -y openssh-client"
    fi
    exit 0
fi
if [ "$(id -u)" != "0" ]; then
    skipped "/usr/sbin/sshd is missing and installing it needs root;" \
        "run 'sudo apt-get install -y openssh-server' to enable the ssh device tests"
fi
if ! command -v apt-get >/dev/null 2>&1; then
    skipped "/usr/sbin/sshd is missing and this system has no apt-get; install an OpenSSH server by hand"
fi
echo "setup-ssh: installing Debian's openssh-server (the ssh device tests start their own sshd on 127.0.0.1)"
export DEBIAN_FRONTEND=noninteractive
if ! apt-get update -q >/dev/null || ! apt-get install -y -q --no-install-recommends openssh-server >/dev/null; then
    skipped "apt-get could not install openssh-server; the ssh device tests will be skipped"
fi
echo "setup-ssh: sshd installed ($(/usr/sbin/sshd -V 2>&1 | head -n1))"
exit 0
