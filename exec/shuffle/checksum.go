package shuffle

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// A partition file is a plain Arrow IPC stream followed by a checksum
// trailer, so any Arrow tool still reads it as a stream (readers stop at the
// end-of-stream marker) while quern verifies every byte before decoding it:
//
//	┌ block 0 ┐┌ block 1 ┐    ┌ block n-1 ┐┌──────────── trailer ────────────┐
//	 schema +    batch   …     end-of-      n × {u64 length, u32 CRC32-C}
//	 batch 0     1             stream       u32 n │ u32 CRC32-C of the above │ magic
//
// A block is what one ipc.Writer call wrote (a batch message, the schema
// along with the first batch, the end-of-stream marker last). The reader
// loads a whole block, checks its CRC and only then lets the IPC decoder
// see it (blockMessages), so a flipped bit never reaches the flatbuffer decoder nor sizes
// an allocation. The lengths must add up to the file's size less the
// trailer, which catches a file cut at any offset.

// trailerMagic ends every partition file.
var trailerMagic = [8]byte{'Q', 'R', 'N', 'S', 'U', 'M', '1', '\n'}

const (
	blockEntrySize = 12 // u64 length, u32 CRC
	trailerTail    = 16 // u32 count, u32 CRC, magic
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

type blockSum struct {
	length int64
	crc    uint32
}

// blockSummer passes writes through to w, counting bytes and keeping the
// CRC of the block being written.
type blockSummer struct {
	w      io.Writer
	n      int64 // bytes written in all
	start  int64 // where the current block began
	crc    uint32
	blocks []blockSum
}

func (s *blockSummer) Write(p []byte) (int, error) {
	n, err := s.w.Write(p)
	s.crc = crc32.Update(s.crc, castagnoli, p[:n])
	s.n += int64(n)
	return n, err
}

// endBlock closes the current block (if it has bytes).
func (s *blockSummer) endBlock() {
	if s.n == s.start {
		return
	}
	s.blocks = append(s.blocks, blockSum{length: s.n - s.start, crc: s.crc})
	s.start, s.crc = s.n, 0
}

// writeTrailer appends the trailer describing every block so far.
func (s *blockSummer) writeTrailer() error {
	s.endBlock()
	t := make([]byte, 0, len(s.blocks)*blockEntrySize+trailerTail)
	for _, b := range s.blocks {
		t = binary.LittleEndian.AppendUint64(t, uint64(b.length))
		t = binary.LittleEndian.AppendUint32(t, b.crc)
	}
	t = binary.LittleEndian.AppendUint32(t, uint32(len(s.blocks)))
	t = binary.LittleEndian.AppendUint32(t, crc32.Checksum(t, castagnoli))
	t = append(t, trailerMagic[:]...)
	_, err := s.w.Write(t)
	s.n += int64(len(t))
	return err
}

// readTrailer reads and checks the trailer of a file of the given size and
// returns its blocks, which cover the file's first bytes exactly.
func readTrailer(f io.ReaderAt, size int64) ([]blockSum, error) {
	if size < trailerTail {
		return nil, fmt.Errorf("truncated: %d bytes, no checksum trailer", size)
	}
	tail := make([]byte, trailerTail)
	if _, err := f.ReadAt(tail, size-trailerTail); err != nil {
		return nil, err
	}
	if !bytes.Equal(tail[8:], trailerMagic[:]) {
		return nil, errors.New("truncated or not a shuffle file: no checksum trailer")
	}
	n := int64(binary.LittleEndian.Uint32(tail))
	tlen := n*blockEntrySize + trailerTail
	if tlen > size {
		return nil, fmt.Errorf("corrupt checksum trailer: %d blocks in %d bytes", n, size)
	}
	t := make([]byte, tlen)
	if _, err := f.ReadAt(t, size-tlen); err != nil {
		return nil, err
	}
	if crc32.Checksum(t[:tlen-12], castagnoli) != binary.LittleEndian.Uint32(t[tlen-12:]) {
		return nil, errors.New("corrupt checksum trailer: checksum mismatch")
	}
	blocks := make([]blockSum, n)
	left := size - tlen
	for i := range blocks {
		e := t[i*blockEntrySize:]
		l := binary.LittleEndian.Uint64(e)
		if l == 0 || l > uint64(left) {
			return nil, fmt.Errorf("corrupt checksum trailer: block %d of %d bytes overruns the file", i, l)
		}
		blocks[i] = blockSum{length: int64(l), crc: binary.LittleEndian.Uint32(e[8:])}
		left -= int64(l)
	}
	if left != 0 {
		return nil, fmt.Errorf("corrupt: %d bytes not covered by the checksum trailer", left)
	}
	return blocks, nil
}

// blockMessages is an ipc.MessageReader over a file's verified blocks.
// Each block is read whole into allocator memory and checked before any
// message in it is parsed; message bodies are slices of the block, so the
// batches the IPC reader builds share its memory instead of copying it.
type blockMessages struct {
	r      io.Reader
	mem    memory.Allocator
	blocks []blockSum
	next   int   // block to load next
	off    int64 // file offset of block next
	cur    *memory.Buffer
	pos    int  // parse position in cur
	eos    bool // the end-of-stream marker was read
	msg    *ipc.Message
	refs   atomic.Int64
}

func newBlockMessages(r io.Reader, blocks []blockSum, mem memory.Allocator) *blockMessages {
	m := &blockMessages{r: r, blocks: blocks, mem: mem}
	m.refs.Add(1)
	return m
}

func (m *blockMessages) Retain() { m.refs.Add(1) }

func (m *blockMessages) Release() {
	if m.refs.Add(-1) != 0 {
		return
	}
	if m.msg != nil {
		m.msg.Release()
		m.msg = nil
	}
	if m.cur != nil {
		m.cur.Release()
		m.cur = nil
	}
}

// Message returns the next message (owned by m until the next call), or
// io.EOF at the end-of-stream marker.
func (m *blockMessages) Message() (msg *ipc.Message, err error) {
	defer func() {
		if p := recover(); p != nil { // not expected of checked bytes
			msg, err = nil, fmt.Errorf("corrupt message in block %d: %v", m.next-1, p)
		}
	}()
	if m.eos {
		return nil, io.EOF
	}
	if m.cur == nil || m.pos == m.cur.Len() {
		if err := m.load(); err != nil {
			return nil, err
		}
	}
	b := m.cur.Bytes()[m.pos:]
	if len(b) < 4 {
		return nil, m.corrupt("message prefix")
	}
	metaAt, metaLen := 4, int64(binary.LittleEndian.Uint32(b))
	if metaLen == 0xFFFFFFFF { // continuation marker, then the length
		if len(b) < 8 {
			return nil, m.corrupt("message prefix")
		}
		metaAt, metaLen = 8, int64(binary.LittleEndian.Uint32(b[4:]))
	}
	if metaLen == 0 {
		m.pos += metaAt
		m.eos = true
		return nil, io.EOF
	}
	if metaLen > int64(len(b)-metaAt) {
		return nil, m.corrupt("message metadata")
	}
	meta := memory.SliceBuffer(m.cur, m.pos+metaAt, int(metaLen))
	defer meta.Release()
	head := ipc.NewMessage(meta, memory.NewBufferBytes(nil)) // to learn the body's length
	bodyLen := head.BodyLen()
	head.Release()
	bodyAt := int64(metaAt) + metaLen
	if bodyLen < 0 || bodyLen > int64(len(b))-bodyAt {
		return nil, m.corrupt("message body")
	}
	body := memory.SliceBuffer(m.cur, m.pos+int(bodyAt), int(bodyLen))
	defer body.Release()
	if m.msg != nil {
		m.msg.Release()
	}
	m.msg = ipc.NewMessage(meta, body)
	m.pos += int(bodyAt + bodyLen)
	return m.msg, nil
}

func (m *blockMessages) corrupt(what string) error {
	return fmt.Errorf("corrupt: %s overruns block %d", what, m.next-1)
}

// load reads and verifies the next block.
func (m *blockMessages) load() error {
	if m.next == len(m.blocks) {
		return errors.New("corrupt: the stream has no end-of-stream marker")
	}
	blk := m.blocks[m.next]
	if m.cur != nil {
		m.cur.Release() // batches still using it keep it alive
	}
	m.cur = memory.NewResizableBuffer(m.mem)
	m.cur.Resize(int(blk.length))
	m.pos = 0
	if _, err := io.ReadFull(m.r, m.cur.Bytes()); err != nil {
		m.cur.Resize(0)
		return fmt.Errorf("reading block %d at byte %d: %w", m.next, m.off, err)
	}
	if crc32.Checksum(m.cur.Bytes(), castagnoli) != blk.crc {
		m.cur.Resize(0)
		return fmt.Errorf("corrupt: checksum mismatch in block %d (bytes %d to %d)", m.next, m.off, m.off+blk.length)
	}
	m.off += blk.length
	m.next++
	return nil
}

// drained reports whether the stream ended exactly at the end of the last
// block.
func (m *blockMessages) drained() bool {
	return m.eos && m.next == len(m.blocks) && m.cur != nil && m.pos == m.cur.Len()
}

// FileWriter writes one partition file: an Arrow IPC stream of a schema
// with a checksum per batch and the trailer the Reader verifies. The
// shuffle Writer uses one per partition; a worker uses one for the copy of
// a partition it fetched from another, so that every file a Reader opens
// is checked. A FileWriter is used by one goroutine.
type FileWriter struct {
	path string
	file *os.File
	buf  *bufio.Writer
	sum  blockSummer
	ipc  *ipc.Writer
	done bool
}

// CreateFile creates (or truncates) the partition file at path.
func CreateFile(path string, schema *arrow.Schema, mem memory.Allocator) (*FileWriter, error) {
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("creating shuffle file: %w", err)
	}
	fw := &FileWriter{path: path, file: f, buf: bufio.NewWriterSize(f, 1<<20)}
	fw.sum.w = fw.buf
	fw.ipc = ipc.NewWriter(&fw.sum, ipc.WithSchema(schema), ipc.WithAllocator(mem))
	return fw, nil
}

// Write appends one batch as one checksummed block.
func (fw *FileWriter) Write(rec arrow.Record) error {
	if fw.done {
		return fmt.Errorf("internal: write to closed shuffle file %s", fw.path)
	}
	if err := fw.ipc.Write(rec); err != nil {
		return fmt.Errorf("writing shuffle file %s: %w", fw.path, err)
	}
	fw.sum.endBlock()
	return nil
}

// Size is the number of bytes written so far; after Close, the file's size.
func (fw *FileWriter) Size() int64 { return fw.sum.n }

// Close ends the stream, appends the trailer and closes the file. The file
// is complete only if Close returns nil.
func (fw *FileWriter) Close() error {
	if fw.done {
		return nil
	}
	fw.done = true
	err := fw.ipc.Close()
	if err == nil {
		err = fw.sum.writeTrailer()
	}
	if err == nil {
		err = fw.buf.Flush()
	}
	if cerr := fw.file.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("closing shuffle file %s: %w", fw.path, err)
	}
	return nil
}

// Abort closes and removes the file.
func (fw *FileWriter) Abort() {
	if !fw.done {
		fw.done = true
		fw.ipc.Close()
		fw.file.Close()
	}
	os.Remove(fw.path)
}
