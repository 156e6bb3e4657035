package agent

import (
	"compress/bzip2"
	"compress/gzip"
	"fmt"
	"io"
	"strings"

	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
	"github.com/ulikunitz/xz"
)

// compressedExts are the compressions the agent reads package indexes in
// (apt keeps its lists uncompressed or as .lz4/.gz/.xz/.zst/.bz2 depending
// on Acquire::GzipIndexes; dnf and zypper cache .gz, .xz, .zst or .bz2).
var compressedExts = []string{".lz4", ".gz", ".xz", ".zst", ".bz2"}

// splitCompression splits "…_Packages.lz4" into "…_Packages" and ".lz4"; a
// name without a known compression extension comes back whole with "".
func splitCompression(name string) (base, ext string) {
	for _, e := range compressedExts {
		if strings.HasSuffix(name, e) {
			return name[:len(name)-len(e)], e
		}
	}
	return name, ""
}

// decompressor wraps r in the decompressor for ext ("" = uncompressed). The
// returned close function releases the decompressor's resources (not r).
func decompressor(r io.Reader, ext string) (io.Reader, func(), error) {
	nop := func() {}
	switch ext {
	case "":
		return r, nop, nil
	case ".gz":
		z, err := gzip.NewReader(r)
		if err != nil {
			return nil, nop, fmt.Errorf("gzip: %w", err)
		}
		return z, func() { z.Close() }, nil
	case ".lz4":
		return lz4.NewReader(r), nop, nil
	case ".xz":
		z, err := xz.NewReader(r)
		if err != nil {
			return nil, nop, fmt.Errorf("xz: %w", err)
		}
		return z, nop, nil
	case ".zst":
		z, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true),
			zstd.WithDecoderMaxMemory(1<<30))
		if err != nil {
			return nil, nop, fmt.Errorf("zstd: %w", err)
		}
		return z, z.Close, nil
	case ".bz2":
		return bzip2.NewReader(r), nop, nil
	}
	return nil, nop, fmt.Errorf("unknown compression %q", ext)
}
