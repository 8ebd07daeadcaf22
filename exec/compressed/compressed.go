package compressed

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/klauspost/compress/zstd"
)

// Codec names a compression by its file-name suffix.
type Codec string

const (
	None Codec = ""     // a plain file
	Gzip Codec = "gzip" // .gz
	Zstd Codec = "zstd" // .zst
)

// Of returns the codec that path's last suffix names (in any letter case).
func Of(path string) Codec {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".gz":
		return Gzip
	case ".zst":
		return Zstd
	}
	return None
}

// Strip returns path without its compression suffix: the name whose
// extension tells the format.
func Strip(path string) string {
	if Of(path) == None {
		return path
	}
	return path[:len(path)-len(filepath.Ext(path))]
}

// ErrCorrupt marks compressed data that does not decode: damaged or cut
// short. Retrying the read cannot help.
var ErrCorrupt = errors.New("corrupt compressed data")

// zstdMaxWindow bounds the memory a zstd stream may ask for, as the zstd
// command line does by default: a hostile header cannot make the decoder
// allocate gigabytes.
const zstdMaxWindow = 128 << 20

// readBuffer is how much of the compressed file one system call reads.
const readBuffer = 256 << 10

// File is an input file read at decompressed offsets (see the package
// documentation). It is not safe for concurrent use.
type File struct {
	path  string
	codec Codec
	file  *os.File

	// The decompressing state (codec != None).
	buf   *bufio.Reader
	gz    *gzip.Reader
	zs    *zstd.Decoder
	dec   io.Reader // gz or zs
	pos   int64     // decompressed bytes delivered or skipped so far
	lines int64     // '\n' bytes among them, for error messages
	err   error     // sticky decoding error
	skip  []byte    // scratch for skipping forward
}

// Open opens path for reading, with the decompressor its suffix names.
// Errors name the path.
func Open(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err // *fs.PathError names the path
	}
	if st, err := f.Stat(); err != nil {
		f.Close()
		return nil, err
	} else if st.IsDir() {
		f.Close()
		return nil, &fs.PathError{Op: "open", Path: path, Err: errors.New("is a directory, not a table file")}
	}
	c := &File{path: path, codec: Of(path), file: f}
	if c.codec == None {
		return c, nil
	}
	if err := c.start(); err != nil {
		f.Close()
		return nil, err
	}
	return c, nil
}

// Path is the file's name as opened.
func (c *File) Path() string { return c.path }

// Compressed reports whether offsets count decompressed bytes, which can
// only be read in order.
func (c *File) Compressed() bool { return c.codec != None }

// Size is the plain file's size, or -1 for a compressed file, whose
// decompressed size is known only at its end.
func (c *File) Size() (int64, error) {
	if c.codec != None {
		return -1, nil
	}
	if c.file == nil {
		return 0, c.err
	}
	st, err := c.file.Stat()
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}

// start (re)opens the decompressor at the top of the file.
func (c *File) start() error {
	if _, err := c.file.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("%s: %w", c.path, err)
	}
	if c.buf == nil {
		c.buf = bufio.NewReaderSize(c.file, readBuffer)
	} else {
		c.buf.Reset(c.file)
	}
	c.pos, c.lines, c.err = 0, 0, nil
	var err error
	switch c.codec {
	case Gzip:
		if c.gz == nil {
			c.gz, err = gzip.NewReader(c.buf)
		} else {
			err = c.gz.Reset(c.buf)
		}
		c.dec = c.gz
	case Zstd:
		if c.zs == nil {
			c.zs, err = zstd.NewReader(c.buf, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(zstdMaxWindow))
		} else {
			err = c.zs.Reset(c.buf)
		}
		c.dec = c.zs
	}
	if err != nil {
		c.err = c.corrupt(err)
		return c.err
	}
	return nil
}

// corrupt describes a decoding failure at the current position.
func (c *File) corrupt(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		err = errors.New("the file ends in the middle of the compressed stream (truncated?)")
	}
	return fmt.Errorf("%s: %w (%s) at line %d, decompressed byte %d: %v", c.path, ErrCorrupt, c.codec, c.lines+1, c.pos, err)
}

// Read reads the next bytes of the (decompressed) stream.
func (c *File) Read(p []byte) (int, error) {
	if c.file == nil {
		return 0, c.err
	}
	if c.codec == None {
		return c.file.Read(p)
	}
	if c.err != nil {
		return 0, c.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	n, err := c.dec.Read(p)
	c.pos += int64(n)
	c.lines += int64(bytes.Count(p[:n], newline))
	switch {
	case err == nil || err == io.EOF:
		return n, err
	default:
		c.err = c.corrupt(err)
		return n, c.err
	}
}

var newline = []byte{'\n'}

// ReadAt reads len(p) bytes at decompressed offset off, with io.ReaderAt's
// contract: fewer bytes only with an error, io.EOF at the end of the
// stream. A compressed file reads fastest at the offset where the last
// read ended.
func (c *File) ReadAt(p []byte, off int64) (int, error) {
	if c.file == nil {
		return 0, c.err
	}
	if c.codec == None {
		return c.file.ReadAt(p, off)
	}
	if off < 0 {
		return 0, fmt.Errorf("%s: negative offset %d", c.path, off)
	}
	if off < c.pos {
		if err := c.start(); err != nil {
			return 0, err
		}
	}
	for c.pos < off {
		if c.skip == nil {
			c.skip = make([]byte, 64<<10)
		}
		n, err := c.Read(c.skip[:min(int64(len(c.skip)), off-c.pos)])
		if n == 0 && err != nil {
			return 0, err
		}
	}
	n, err := io.ReadFull(c, p)
	if err == io.ErrUnexpectedEOF {
		err = io.EOF
	}
	return n, err
}

// Close closes the file and frees the decompressor; it may be called again.
func (c *File) Close() error {
	if c.file == nil {
		return nil
	}
	if c.zs != nil {
		c.zs.Close()
		c.zs = nil
	}
	if c.gz != nil {
		c.gz.Close()
		c.gz = nil
	}
	c.dec = nil
	err := c.file.Close()
	c.file = nil
	if c.err == nil {
		c.err = fmt.Errorf("internal: %s: read after Close", c.path)
	}
	return err
}

// WriteFile writes data to path, compressed as the path's suffix says: the
// inverse of Open, for tests and tools that make input files.
func WriteFile(path string, data []byte) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	var w io.WriteCloser = nopCloser{f}
	switch Of(path) {
	case Gzip:
		w = gzip.NewWriter(f)
	case Zstd:
		if w, err = zstd.NewWriter(f, zstd.WithEncoderConcurrency(1)); err != nil {
			f.Close()
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	_, err = w.Write(data)
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }
