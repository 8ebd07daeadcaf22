// Package textscan reads a .txt file as a table of words: one column, word
// (VARCHAR, Arrow utf8), one row per word. Words are maximal runs of bytes that
// are neither ASCII punctuation nor ASCII white space, exactly as
// `LC_ALL=C tr -s '[:punct:][:space:]' '\n'` splits them: bytes >= 0x80,
// digits, letters and control bytes other than \t \n \v \f \r all belong to
// words, and there are no empty words.
//
// A file is cut into byte ranges by Splits; every range is scanned by its own
// operator, and every word of the file is produced by exactly one range
// whatever the cut points. The rule is Hadoop's line-split rule with "any
// separator byte" in place of '\n' (so a file with no line ends still splits):
//
//	file   ... w o r d , ␠ n e x t ␠ w o r d ...
//	             ^ Start            ^ End
//	begin  = first separator at or after Start-1 (0 when Start == 0)
//	finish = first separator at or after End-1   (file size if none)
//	the range yields the words inside [begin, finish)
//
// A word belongs to the range holding its first byte: the range whose Start
// falls inside a word skips that word, and the range whose End falls inside a
// word reads past End to finish it. CRLF line ends, a last line without '\n'
// and empty ranges need no special case because '\r' and '\n' are ordinary
// separators.
//
// Two operators scan a range; both follow exec.Operator (Schema, Next with
// io.EOF at the end, records valid until the next call, idempotent Close):
//
//   - Reader emits the words in file order as {word: utf8} batches of
//     batchSize rows (fewer only in the last batch, or when a batch reaches
//     2 GiB of word bytes), copying word bytes straight from the read buffer
//     into the Arrow buffers.
//   - Counter is the map-side combiner of GROUP BY word fused into the scan:
//     its first Next counts every distinct word of the range, then it emits
//     {word: utf8, n: int64}, one row per distinct word, in no particular
//     order, batchSize rows at a time.
//
// The data path, per range:
//
//	file ──ReadAt 512 KiB──▶ chunker ──pieces that end between words──▶ tokenize
//	tokenize ──256 words (start, length, first 16 bytes)──▶ Reader: Arrow buffers
//	                                                    └─▶ Counter: word table
//
// The tokenizer classifies 64 bytes at a time into a separator bitmap (SSSE3
// nibble lookups on amd64, integer SWAR arithmetic elsewhere) and reads word
// starts and ends off it, so it has about one unpredictable branch per word
// rather than one per byte. The Counter's table is open addressing with
// linear probing over 32-byte slots that hold words of up to 16 bytes inline
// (longer ones in an arena); while one block of 256 words is counted, the
// next is tokenized, hashed and its home slots prefetched, so that the cache
// misses of rare words overlap with useful work. The table is not the
// allocator's memory: on Linux a big one is mapped with transparent huge
// pages and unmapped when the Counter is done, about 43-85 bytes per
// distinct word.
//
// Files are read with ReadAt into one reused buffer; a word that straddles
// two reads is carried to the front of the buffer. Context cancellation is
// checked before every read. Errors name the file.
//
// A .gz or .zst file is decompressed as it is read (package compressed) and
// read whole, from a range that starts at 0. NewPartsCounter counts the
// ranges of several files into one table (a map task over many small
// files), opening them one at a time; a file's end always ends a word.
package textscan
