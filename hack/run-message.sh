#!/usr/bin/env bash
# The message `make run` ends with (hack/run.sh): where things are and what to type next. Its own
# script so test/integration/printed-commands.test.ts runs the commands it prints, as printed.
#   hack/run-message.sh <state-dir>
# with KUBECONFIG set and kubectl on PATH; RUN_LIBVIRT, RUN_KUBEVIRT and RUN_GRID say what
# hack/run.sh set up. The portal's lab passwords are read from <state-dir>/broker.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
state=$1
b=$state/broker
password() { cat "$b/$1.password" 2>/dev/null || echo "(not made: see $state/broker.log)"; }
cat <<MSG

griddesk is running: controller (metrics http://127.0.0.1:8080/metrics) and a simulated agent
serving sim-small, sim-medium and sim-large.

The portal: open https://127.0.0.1:8443 (a self-signed certificate made for this lab: accept it)
and sign in with your organisation (the lab identity provider at https://127.0.0.1:8444) or with
the form, as alice / $(password alice) or bob / $(password bob). Pick local-libvirt and
the libvirt desktop's screen comes up in the page.

In another shell:

  cd $repo
  export KUBECONFIG=$KUBECONFIG
  export PATH=$repo/bin:$(dirname "$(command -v kubectl)"):\$PATH   # griddesk (on the project's Node 24), kubectl matching the server
  kubectl get griddesk -n team-a                          # pools, desktops, sessions
  kubectl get hostnodes                                   # hosts, allocation, readiness
  kubectl create -f examples/session.yaml                 # log on as alice
  kubectl get desktopsessions -n team-a -w                # watch it become Ready with an endpoint
  kubectl delete desktopsessions -n team-a --all          # log off: the profile is saved, the desktop destroyed, the buffer refills
  kubectl get desktopprofiles -n team-a                   # users' profiles: lock, head version, size, last sync
  griddesk status                                         # the same as a table
  kubectl griddesk cordon sim-small                       # the CLI is a kubectl plugin too: no new desktops on sim-small
  kubectl griddesk uncordon sim-small                     # ...and back

libvirt: ${RUN_LIBVIRT:-}
kubevirt: ${RUN_KUBEVIRT:-}
${RUN_GRID:-}
Logs: $state/controller.log, $state/agent.log (and libvirt-agent.log, kubevirt-agent.log, kwok.log, broker.log, idp.log). Ctrl-C stops griddesk.
MSG
