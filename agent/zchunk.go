package agent

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"fmt"
	"hash"
	"io"

	"github.com/klauspost/compress/zstd"
)

// zchunk is the format dnf keeps repository metadata in when the
// repository offers it (Fedora's primary.xml.zck): a header with an index of
// independently zstd-compressed chunks sharing one dictionary. This reader
// follows the zchunk format (zchunk_format.txt of the zchunk project):
// the lead ("\0ZCK1", checksum type, header size, header checksum), the
// preface (data checksum, flags, compression type, optional elements), the
// index (chunk checksum type, count, then per chunk: checksum, compressed
// and uncompressed length; the first entry is the dictionary), the
// signatures, then the data. Every chunk's checksum is verified.

var zckMagic = []byte("\x00ZCK1")

// zckMaxHeader and zckMaxChunk bound what a damaged file can make the agent
// allocate.
const (
	zckMaxHeader = 64 << 20
	zckMaxChunk  = 64 << 20
)

type zckChunk struct {
	sum        []byte
	clen, ulen int64
}

type zckReader struct {
	r       io.Reader
	dec     *zstd.Decoder
	newHash func() hash.Hash
	chunks  []zckChunk
	next    int
	plain   bool // compression type 0: chunks stored as they are
	buf     []byte
	cbuf    []byte
	out     []byte
}

// zchunkReader returns the uncompressed content of a zchunk file.
func zchunkReader(r io.Reader) (io.Reader, func(), error) {
	nop := func() {}
	br := &byteCounter{r: r}
	lead := make([]byte, len(zckMagic))
	if _, err := io.ReadFull(br, lead); err != nil || !bytes.Equal(lead, zckMagic) {
		return nil, nop, errors.New("zchunk: not a zchunk file")
	}
	sumType, err := zckReadInt(br)
	if err != nil {
		return nil, nop, fmt.Errorf("zchunk lead: %w", err)
	}
	size, _, err := zckHashType(sumType)
	if err != nil {
		return nil, nop, fmt.Errorf("zchunk lead: %w", err)
	}
	hdrLen, err := zckReadInt(br)
	if err != nil {
		return nil, nop, fmt.Errorf("zchunk lead: %w", err)
	}
	if _, err := io.ReadFull(br, make([]byte, size)); err != nil { // header checksum
		return nil, nop, fmt.Errorf("zchunk lead: %w", err)
	}
	if hdrLen <= 0 || hdrLen > zckMaxHeader {
		return nil, nop, fmt.Errorf("zchunk: header size %d out of range", hdrLen)
	}
	hdr, err := readExactly(br, hdrLen)
	if err != nil {
		return nil, nop, fmt.Errorf("zchunk header: %w", err)
	}
	h := bytes.NewReader(hdr)
	// Preface.
	if _, err := io.ReadFull(h, make([]byte, size)); err != nil { // data checksum
		return nil, nop, fmt.Errorf("zchunk preface: %w", err)
	}
	flags, err := zckReadInt(h)
	if err != nil {
		return nil, nop, fmt.Errorf("zchunk preface: %w", err)
	}
	if flags&1 != 0 {
		return nil, nop, errors.New("zchunk: data streams are not supported")
	}
	if flags&^6 != 0 {
		return nil, nop, fmt.Errorf("zchunk: unknown flags %#x", flags)
	}
	comp, err := zckReadInt(h)
	if err != nil {
		return nil, nop, fmt.Errorf("zchunk preface: %w", err)
	}
	if comp != 0 && comp != 2 {
		return nil, nop, fmt.Errorf("zchunk: compression type %d (want 0 or 2, zstd)", comp)
	}
	if flags&2 != 0 { // optional elements: skipped
		n, err := zckReadInt(h)
		if err != nil {
			return nil, nop, fmt.Errorf("zchunk preface: %w", err)
		}
		for range n {
			if _, err := zckReadInt(h); err != nil {
				return nil, nop, fmt.Errorf("zchunk preface: %w", err)
			}
			l, err := zckReadInt(h)
			if err != nil || l > int64(h.Len()) {
				return nil, nop, errors.New("zchunk preface: bad optional element")
			}
			h.Seek(l, io.SeekCurrent)
		}
	}
	idxLen, err := zckReadInt(h)
	if err != nil || idxLen > int64(h.Len()) {
		return nil, nop, errors.New("zchunk: bad index size")
	}
	idx := io.LimitReader(h, idxLen)
	chunkType, err := zckReadInt(idx)
	if err != nil {
		return nil, nop, fmt.Errorf("zchunk index: %w", err)
	}
	csize, chunkHash, err := zckHashType(chunkType)
	if err != nil {
		return nil, nop, fmt.Errorf("zchunk index: %w", err)
	}
	count, err := zckReadInt(idx)
	if err != nil || count <= 0 || count > idxLen {
		return nil, nop, errors.New("zchunk index: bad chunk count")
	}
	z := &zckReader{r: br, newHash: chunkHash, plain: comp == 0}
	for i := range count {
		c := zckChunk{sum: make([]byte, csize)}
		if _, err := io.ReadFull(idx, c.sum); err != nil {
			return nil, nop, fmt.Errorf("zchunk index entry %d: %w", i, err)
		}
		if flags&4 != 0 { // checksum of the uncompressed chunk: not needed
			if _, err := io.ReadFull(idx, make([]byte, csize)); err != nil {
				return nil, nop, fmt.Errorf("zchunk index entry %d: %w", i, err)
			}
		}
		if c.clen, err = zckReadInt(idx); err == nil {
			c.ulen, err = zckReadInt(idx)
		}
		if err != nil || c.clen > zckMaxChunk || c.ulen > zckMaxChunk {
			return nil, nop, fmt.Errorf("zchunk index entry %d: bad lengths", i)
		}
		z.chunks = append(z.chunks, c)
	}
	// The signatures follow the index inside the header: nothing to read.
	// The first chunk is the dictionary.
	dict, err := z.readChunk(0, nil)
	if err != nil {
		return nil, nop, fmt.Errorf("zchunk dictionary: %w", err)
	}
	z.next = 1
	if !z.plain {
		opts := []zstd.DOption{zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(zckMaxChunk)}
		if len(dict) > 0 {
			if len(dict) >= 8 && bytes.Equal(dict[:4], []byte{0x37, 0xa4, 0x30, 0xec}) {
				opts = append(opts, zstd.WithDecoderDicts(dict))
			} else {
				opts = append(opts, zstd.WithDecoderDictRaw(0, dict))
			}
		}
		if z.dec, err = zstd.NewReader(nil, opts...); err != nil {
			return nil, nop, fmt.Errorf("zchunk dictionary: %w", err)
		}
		return z, z.dec.Close, nil
	}
	return z, nop, nil
}

// readChunk reads chunk i's compressed bytes, checks them and decompresses
// them (the dictionary chunk without a dictionary).
func (z *zckReader) readChunk(i int, dec *zstd.Decoder) ([]byte, error) {
	c := z.chunks[i]
	var data []byte
	if int64(cap(z.cbuf)) >= c.clen {
		data = z.cbuf[:c.clen]
		if _, err := io.ReadFull(z.r, data); err != nil {
			return nil, fmt.Errorf("chunk %d: %w", i, err)
		}
	} else {
		// Grow only as the data arrives: a damaged length cannot make the
		// agent allocate what the file does not hold.
		b, err := readExactly(z.r, c.clen)
		if err != nil {
			return nil, fmt.Errorf("chunk %d: %w", i, err)
		}
		z.cbuf, data = b, b
	}
	if c.clen > 0 {
		hh := z.newHash()
		hh.Write(data)
		if !bytes.Equal(hh.Sum(nil)[:len(c.sum)], c.sum) {
			return nil, fmt.Errorf("chunk %d: checksum mismatch (damaged file)", i)
		}
	}
	if z.plain || c.clen == 0 {
		return append([]byte(nil), data...), nil
	}
	if dec == nil {
		d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(zckMaxChunk))
		if err != nil {
			return nil, err
		}
		defer d.Close()
		dec = d
	}
	out, err := dec.DecodeAll(data, z.out[:0])
	if err != nil {
		return nil, fmt.Errorf("chunk %d: %w", i, err)
	}
	if int64(len(out)) != c.ulen {
		return nil, fmt.Errorf("chunk %d: %d bytes uncompressed, the index says %d", i, len(out), c.ulen)
	}
	if i == 0 {
		return append([]byte(nil), out...), nil
	}
	z.out = out
	return out, nil
}

func (z *zckReader) Read(p []byte) (int, error) {
	for len(z.buf) == 0 {
		if z.next >= len(z.chunks) {
			return 0, io.EOF
		}
		b, err := z.readChunk(z.next, z.dec)
		if err != nil {
			return 0, err
		}
		z.next++
		z.buf = b
	}
	n := copy(p, z.buf)
	z.buf = z.buf[n:]
	return n, nil
}

// readExactly reads n bytes, growing its buffer as they arrive.
func readExactly(r io.Reader, n int64) ([]byte, error) {
	var b bytes.Buffer
	if _, err := io.CopyN(&b, r, n); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return b.Bytes(), nil
}

// zckReadInt reads a zchunk compressed integer: little-endian groups of 7
// bits, the final byte marked by its top bit.
func zckReadInt(r io.Reader) (int64, error) {
	var v int64
	var b [1]byte
	for shift := 0; ; shift += 7 {
		if shift > 56 {
			return 0, errors.New("compressed integer too large")
		}
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return 0, err
		}
		v |= int64(b[0]&0x7f) << shift
		if b[0]&0x80 != 0 {
			return v, nil
		}
	}
}

func zckHashType(t int64) (int, func() hash.Hash, error) {
	switch t {
	case 0:
		return sha1.Size, sha1.New, nil
	case 1:
		return sha256.Size, sha256.New, nil
	case 2:
		return sha512.Size, sha512.New, nil
	case 3:
		return 16, sha512.New, nil // SHA-512 truncated to 128 bits
	}
	return 0, nil, fmt.Errorf("unknown checksum type %d", t)
}

// byteCounter is a reader (kept for symmetry with the other readers).
type byteCounter struct {
	r io.Reader
	n int64
}

func (b *byteCounter) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.n += int64(n)
	return n, err
}
