// Command pkgrows turns package lists (apt Packages stanzas, an APKINDEX,
// rpm query lines...) read on stdin into the dpkg-query style rows the
// matcher's archive tests read: NAME, VERSION, SOURCE, SECTION, SUMMARY,
// tab-separated, one package a line. `make match-testdata` runs it.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/eolwatch/eolwatch/server/api"
	"github.com/eolwatch/eolwatch/server/match/pkglist"
)

func main() {
	input := flag.String("input", pkglist.FormatAuto, "format of stdin: "+strings.Join(pkglist.Formats, ", "))
	flag.Parse()
	w := bufio.NewWriter(os.Stdout)
	clean := strings.NewReplacer("\t", " ", "\n", " ", "\r", " ")
	err := pkglist.Read(bufio.NewReader(os.Stdin), *input, func(it api.Item) error {
		_, err := fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", it.Name, it.Version, it.SourcePkg, clean.Replace(it.Section), clean.Replace(it.Summary))
		return err
	})
	if err == nil {
		err = w.Flush()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "pkgrows:", err)
		os.Exit(1)
	}
}
