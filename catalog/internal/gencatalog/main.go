// Command gencatalog generates eolwatch's embedded default catalog
// (catalog/data/catalog.tsv.gz, the catalog package's compact form) from the
// endoflife.date extract: products.json plus the dated releases of
// releases.json attached to their cycles. It copies the extract's LICENSE
// beside it. Run it with `make catalog`.
package main

import (
	"bytes"
	"compress/gzip"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/eolwatch/eolwatch/catalog"
)

func main() {
	src := flag.String("src", "../shared/data/endoflife", "directory holding products.json, releases.json and LICENSE")
	out := flag.String("out", "catalog/data", "output directory")
	flag.Parse()
	if err := run(*src, *out); err != nil {
		fmt.Fprintln(os.Stderr, "gencatalog:", err)
		os.Exit(1)
	}
}

func run(src, out string) error {
	cat, err := catalog.LoadFiles(filepath.Join(src, "products.json"), filepath.Join(src, "releases.json"))
	if err != nil {
		return fmt.Errorf("load extract: %w", err)
	}
	var raw bytes.Buffer
	if err := cat.WriteCompact(&raw); err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	var gz bytes.Buffer
	zw, err := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	if err != nil {
		return err
	}
	// a fixed header (no name, no time) keeps the output reproducible
	if _, err := zw.Write(raw.Bytes()); err != nil {
		return fmt.Errorf("compress: %w", err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("compress: %w", err)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(out, "catalog.tsv.gz"), gz.Bytes(), 0o644); err != nil {
		return err
	}
	lic, err := os.ReadFile(filepath.Join(src, "LICENSE"))
	if err != nil {
		return fmt.Errorf("licence: %w", err)
	}
	if err := os.WriteFile(filepath.Join(out, "LICENSE"), lic, 0o644); err != nil {
		return err
	}
	releases := 0
	for _, p := range cat.Products() {
		for _, c := range p.Cycles {
			releases += len(c.Releases)
		}
	}
	in := cat.Info()
	slog.Info("default catalog written", "dir", out, "products", in.Products, "cycles", in.Cycles,
		"dated_releases", releases, "bytes", raw.Len(), "gzip_bytes", gz.Len(), "version", in.Version, "source", in.Source)
	return nil
}
