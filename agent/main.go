package agent

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"go.yaml.in/yaml/v3"
)

const usage = `eolwatch-agent inventories installed software and reports it to an eolwatch server.

Usage: eolwatch-agent <command> [flags]

Commands:
  inventory [--json]   print what would be sent (a table, or JSON with --json)
  once                 enroll if needed and send one report
  run                  run in the foreground (or as the OS service): report every interval
  install              install the OS service (systemd, launchd, Windows SCM)
  uninstall            remove the OS service
  start|stop|restart   control the OS service
  status               print the OS service's state (exit 1 unless running)
  service-file KIND    print the systemd unit (KIND=systemd) or launchd plist (KIND=launchd)
  config               print the effective configuration (secrets masked)
  version              print the agent version

Flags (every command; they override the config file and EOLWATCH_* variables):
`

// Main runs the eolwatch-agent command line: args[0] names the subcommand
// (inventory, once, run, install, uninstall, start, stop, restart, status,
// service-file, config, version, help).
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		newFlags("", &cliFlags{}).SetOutput(stderr)
		printFlags(stderr)
		return errors.New("no command given")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		printFlags(stdout)
		return nil
	case "version", "--version":
		fmt.Fprintln(stdout, "eolwatch-agent", Version)
		return nil
	}
	var f cliFlags
	fs := newFlags(cmd, &f)
	fs.SetOutput(stderr)
	// Flags may follow positional arguments (service-file systemd --binary X).
	var pos []string
	for {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil
			}
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		pos, rest = append(pos, fs.Arg(0)), fs.Args()[1:]
	}
	switch cmd {
	case "service-file":
		if len(pos) != 1 {
			return errors.New("service-file: want one argument, systemd or launchd")
		}
		args := []string{"run"}
		if f.config != "" {
			args = append(args, "--config", f.config)
		}
		out, err := ServiceFile(pos[0], f.binary, args)
		if err != nil {
			return err
		}
		_, err = io.WriteString(stdout, out)
		return err
	case "install", "uninstall", "start", "stop", "restart", "status":
		if len(pos) != 0 {
			return fmt.Errorf("%s: unexpected argument %q", cmd, pos[0])
		}
		return controlService(cmd, f.config, f.init, stdout)
	case "inventory", "once", "run", "config":
	default:
		return fmt.Errorf("unknown command %q (see eolwatch-agent help)", cmd)
	}
	if len(pos) != 0 {
		return fmt.Errorf("%s: unexpected argument %q", cmd, pos[0])
	}
	cfg, err := f.load(os.Getenv)
	if err != nil {
		return err
	}
	if err := cfg.Validate(cmd == "once" || cmd == "run"); err != nil {
		return err
	}
	switch cmd {
	case "config":
		return printConfig(stdout, cfg)
	case "run":
		return runService(ctx, cfg, f.config, stderr)
	}
	a, err := New(cfg, newTextLogger(stderr, cfg.LogLevel))
	if err != nil {
		return err
	}
	if cmd == "inventory" {
		inv := a.Collect(ctx)
		// Show the install id when this agent has one (read-only: inventory
		// never creates the state directory).
		if b, err := os.ReadFile(filepath.Join(cfg.StateDir, identityFile)); err == nil {
			var id Identity
			if json.Unmarshal(b, &id) == nil {
				inv.Host.InstallID = id.InstallID
			}
		}
		if f.json {
			enc := json.NewEncoder(stdout)
			enc.SetEscapeHTML(false)
			return enc.Encode(inv)
		}
		return printTable(stdout, inv)
	}
	r, err := a.Once(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "report %s delivered (%s, %d items, %d collector errors)\n", r.ReportID, r.Kind, len(r.Items), len(r.Errors))
	return nil
}

// cliFlags are the command-line flags; empty means "not given".
type cliFlags struct {
	config, server, secret, secretFile, stateDir, root, logLevel string
	caFile, certFile, keyFile, init, binary                      string
	interval, splay                                              time.Duration
	json                                                         bool
}

func newFlags(cmd string, f *cliFlags) *flag.FlagSet {
	fs := flag.NewFlagSet("eolwatch-agent "+cmd, flag.ContinueOnError)
	fs.StringVar(&f.config, "config", "", "config file (default "+DefaultConfigPath()+"; also EOLWATCH_CONFIG)")
	fs.StringVar(&f.server, "server", "", "server base URL, e.g. https://eolwatch.example.com")
	fs.StringVar(&f.secret, "enroll-secret", "", "the server's enroll secret (needed until enrolled)")
	fs.StringVar(&f.secretFile, "enroll-secret-file", "", "file holding the enroll secret")
	fs.StringVar(&f.stateDir, "state-dir", "", "state directory (default "+DefaultStateDir()+")")
	fs.StringVar(&f.root, "root", "", "re-root every path collectors read (default /)")
	fs.StringVar(&f.logLevel, "log-level", "", "debug, info, warn or error")
	fs.StringVar(&f.caFile, "ca-file", "", "PEM CA bundle trusted instead of the system roots")
	fs.StringVar(&f.certFile, "cert-file", "", "PEM client certificate")
	fs.StringVar(&f.keyFile, "key-file", "", "PEM client key")
	fs.DurationVar(&f.interval, "interval", 0, "time between reports (default 1h)")
	fs.DurationVar(&f.splay, "splay", 0, "maximum random delay before the first report (default 10m)")
	fs.BoolVar(&f.json, "json", false, "inventory: print JSON")
	fs.StringVar(&f.init, "init", "", "service commands: force a service system (e.g. linux-systemd, unix-systemv)")
	fs.StringVar(&f.binary, "binary", DefaultBinaryPath, "service-file: the agent's installed path")
	return fs
}

func printFlags(w io.Writer) {
	fs := newFlags("", &cliFlags{})
	fs.SetOutput(w)
	fs.PrintDefaults()
}

// load reads the config file and applies environment and flag overrides.
func (f *cliFlags) load(getenv func(string) string) (Config, error) {
	path, required := f.config, f.config != ""
	if path == "" {
		if path = getenv("EOLWATCH_CONFIG"); path != "" {
			required = true
		} else if path = credentialConfig(); path != "" {
			required = true
		} else {
			path = DefaultConfigPath()
		}
	}
	cfg, err := LoadConfig(path, required, getenv)
	if err != nil {
		return cfg, err
	}
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&cfg.Server, f.server)
	set(&cfg.EnrollSecret, f.secret)
	set(&cfg.EnrollSecretFile, f.secretFile)
	set(&cfg.StateDir, f.stateDir)
	set(&cfg.Root, f.root)
	set(&cfg.LogLevel, f.logLevel)
	set(&cfg.TLS.CAFile, f.caFile)
	set(&cfg.TLS.CertFile, f.certFile)
	set(&cfg.TLS.KeyFile, f.keyFile)
	if f.interval != 0 {
		cfg.Interval = f.interval
	}
	if f.splay != 0 {
		cfg.Splay = f.splay
	}
	return cfg, nil
}

// printTable prints the inventory for people.
func printTable(w io.Writer, inv *Inventory) error {
	h := inv.Host
	fmt.Fprintf(w, "host:   %s (%s/%s)\nos:     %s", h.Hostname, h.OS, h.Arch, h.OSName)
	if h.OSBuild != "" {
		fmt.Fprintf(w, " build %s", h.OSBuild)
	}
	if h.Kernel != "" {
		fmt.Fprintf(w, ", kernel %s", h.Kernel)
	}
	fmt.Fprintf(w, "\nitems:  %d\n\n", len(inv.Items))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SOURCE\tNAME\tVERSION\tARCH\tDETAIL")
	for _, it := range inv.Items {
		detail := it.SourcePkg
		if detail == it.Name {
			detail = ""
		}
		for _, s := range []string{it.Publisher, it.BundleID, it.Product} {
			if s != "" {
				detail = strings.TrimSpace(detail + " " + s)
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", it.Source, it.Name, it.Version, it.Arch, detail)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, e := range inv.Errors {
		fmt.Fprintf(w, "\ncollector %s failed: %s", e.Collector, e.Error)
	}
	if len(inv.Errors) > 0 {
		fmt.Fprintln(w)
	}
	return nil
}

// printConfig prints the effective configuration as YAML with the secrets
// masked (the enroll secret, a password in the server URL), followed by the
// compiled-in collectors.
func printConfig(w io.Writer, c Config) error {
	if c.EnrollSecret != "" {
		c.EnrollSecret = "********"
	}
	if u, err := url.Parse(c.Server); err == nil && u.User != nil {
		if _, ok := u.User.Password(); ok {
			c.Server = u.Redacted()
		}
	}
	b, err := yaml.Marshal(&c)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s# collectors built in: %s\n", b, strings.Join(BuiltinCollectors(), ", "))
	return err
}
