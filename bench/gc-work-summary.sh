#!/bin/bash
# bench/gc-work-summary.sh LOG REQUESTS: GC work per request from a --trace-gc-nvp log
f=$1; n=$2
awk -v n=$n '
/gc=s /{ns++; for(i=1;i<=NF;i++){split($i,a,"="); if(a[1]=="allocated")al+=a[2]; if(a[1]=="promoted")pr+=a[2]; if(a[1]=="new_space_survived")sv+=a[2]}}
/gc=mc /{nm++; for(i=1;i<=NF;i++){split($i,a,"="); if(a[1]=="end_object_size")live+=a[2]; if(a[1]=="start_object_size")st+=a[2]}}
END { printf "scavenges %d, allocated %.0f B/req, survived %.0f B/req, promoted %.0f B/req; mark-compacts %d (one per %.0f requests), live heap after %.1f MB, bytes marked %.0f B/req\n", ns, al/n, sv/n, pr/n, nm, (nm? n/nm : 0), (nm? live/nm/1e6 : 0), live/n }' $f
