#!/usr/bin/env bash
# Optional system piece for `make setup`: Debian's OpenSSH server, used by the ssh bench backend
# test (a throwaway sshd on 127.0.0.1). Prints why it skips anything and never fails the setup.
set -u

if [ -x /usr/sbin/sshd ]; then
    echo "setup-ssh: sshd present ($(/usr/sbin/sshd -V 2>&1 | head -n1))"
    exit 0
fi
if [ "$(id -u)" != "0" ]; then
    echo "setup-ssh: skipped: /usr/sbin/sshd is missing and installing it needs root;"
    echo "           run 'sudo apt-get install -y openssh-server' to enable the ssh device tests"
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "setup-ssh: skipped: /usr/sbin/sshd is missing and this system has no apt-get; install an OpenSSH server by hand"
    exit 0
fi
echo "setup-ssh: installing Debian's openssh-server (the ssh device tests start their own sshd on 127.0.0.1)"
export DEBIAN_FRONTEND=noninteractive
if ! apt-get update -q >/dev/null || ! apt-get install -y -q --no-install-recommends openssh-server >/dev/null; then
    echo "setup-ssh: skipped: apt-get could not install openssh-server; the ssh device tests will be skipped"
    exit 0
fi
echo "setup-ssh: sshd installed ($(/usr/sbin/sshd -V 2>&1 | head -n1))"
exit 0
