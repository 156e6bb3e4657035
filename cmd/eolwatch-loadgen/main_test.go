package main

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	env := map[string]string{"EOLWATCH_ENROLL_SECRET": "from-env", "EOLWATCH_TOKEN": "tok-env"}
	getenv := func(k string) string { return env[k] }
	o, err := parse([]string{"--server", "http://127.0.0.1:1", "--hosts", "7", "--items", "9", "--concurrency", "3",
		"--checkins", "4", "--change-rate", "0.5", "--eligibility", "11", "--seed", "5", "--no-gzip", "--json"}, getenv, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	c := o.cfg
	if c.Server != "http://127.0.0.1:1" || c.EnrollSecret != "from-env" || c.Token != "tok-env" || c.Hosts != 7 || c.Items != 9 ||
		c.Concurrency != 3 || c.Checkins != 4 || c.ChangeRate != 0.5 || c.Eligibility != 11 || c.Seed != 5 || !c.NoGzip || !o.jsonOut {
		t.Errorf("parse = %+v (json %v)", c, o.jsonOut)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no server", []string{"--enroll-secret", "s"}, "--server and --enroll-secret"},
		{"zero hosts", []string{"--server", "http://x", "--hosts", "0"}, "must be positive"},
		{"change rate", []string{"--server", "http://x", "--change-rate", "2"}, "--change-rate 2"},
		{"stray argument", []string{"--server", "http://x", "extra"}, `"extra"`},
		{"unknown flag", []string{"--colour"}, "colour"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parse(tc.args, getenv, io.Discard)
			var ue usageError
			if !errors.As(err, &ue) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("parse(%q) = %v, want a usage error naming %q", tc.args, err, tc.want)
			}
		})
	}
	if err := run(context.Background(), []string{"-h"}, getenv, io.Discard, io.Discard); err != nil {
		t.Errorf("-h: %v, want nil", err)
	}
}
