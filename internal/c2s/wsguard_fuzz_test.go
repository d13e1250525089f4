package c2s

import (
	"encoding/binary"
	"testing"
)

// refFrames is the plain reading of a whole WebSocket byte stream: the
// declared payload lengths of its complete frame headers, in order, up to
// the first invalid 64-bit length (reported as -1).
func refFrames(b []byte) []int64 {
	var out []int64
	for len(b) >= 2 {
		hl := headerLen(b[1])
		if len(b) < hl {
			break
		}
		var n int64
		switch l7 := b[1] & 0x7f; l7 {
		case 126:
			n = int64(binary.BigEndian.Uint16(b[2:4]))
		case 127:
			u := binary.BigEndian.Uint64(b[2:10])
			if u>>63 != 0 {
				return append(out, -1)
			}
			n = int64(u)
		default:
			n = int64(l7)
		}
		out = append(out, n)
		b = b[hl:]
		if int64(len(b)) < n {
			break
		}
		b = b[n:]
	}
	return out
}

// FuzzFrameParser: however the stream is cut into reads, the guard
// refuses it exactly when a complete header declares more than the limit
// (or an invalid length), as a plain reading of the whole stream says.
func FuzzFrameParser(f *testing.F) {
	f.Add([]byte{0x81, 0x85, 0, 0, 0, 0, 'h', 'e', 'l', 'l', 'o'}, uint16(3), uint16(100))
	f.Add([]byte{0x81, 0xfe, 0x01, 0x00, 1, 2, 3, 4}, uint16(1), uint16(255))
	f.Add([]byte{0x81, 0xff, 0, 0, 0, 0x10, 0, 0, 0, 0, 0, 0, 0, 0}, uint16(5), uint16(8192))
	f.Add([]byte{0x81, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0}, uint16(9), uint16(8192))
	f.Add([]byte{0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe8, 0x81, 0x01, 'x'}, uint16(7), uint16(1))
	f.Fuzz(func(t *testing.T, data []byte, split, limit16 uint16) {
		limit := int64(limit16)
		want := false
		for _, n := range refFrames(data) {
			if n < 0 || n > limit {
				want = true
				break
			}
		}
		cut := int(split) % (len(data) + 1)
		var whole, halves, bytewise frameParser
		gotWhole := whole.scan(data, limit) != nil
		gotHalves := halves.scan(data[:cut], limit) != nil || halves.scan(data[cut:], limit) != nil
		gotBytes := false
		for i := range data {
			if bytewise.scan(data[i:i+1], limit) != nil {
				gotBytes = true
				break
			}
		}
		if gotWhole != want || gotHalves != want || gotBytes != want {
			t.Fatalf("refused: whole %v, in two reads %v, byte by byte %v; want %v (frames %v)",
				gotWhole, gotHalves, gotBytes, want, refFrames(data))
		}
	})
}
