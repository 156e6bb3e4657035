// Package packagetest checks the packages that scripts/packages.sh (make
// packages) builds: it has no code of its own, only tests. They build the
// Linux agent and server packages and the Windows MSI into a temporary
// directory, then run the same checks an IT team would: systemd-analyze on
// the units, lintian on the .deb files, rpm queries, msiinfo on the MSI,
// osslsigncode on the signatures, and, as root, a real dpkg install, upgrade,
// removal and purge on this machine plus a kardianos/service install of the
// agent inside a private mount namespace.
//
// Tools come from `make deps`; a missing tool skips the test that needs it,
// or fails it when CI=true.
package packagetest
