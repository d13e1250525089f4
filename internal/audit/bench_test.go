package audit

import (
	"testing"
)

// BenchmarkEmitDurable: records per second through the batching writer,
// all durable (SQLite, synchronous=FULL) when the timer stops.
func BenchmarkEmitDurable(b *testing.B) {
	tl := openBenchLog(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tl.Emit(rec(i))
	}
	tl.Close()
	b.StopTimer()
	if head, _ := tl.Head(); head != int64(b.N) {
		b.Fatalf("head %d, want %d", head, b.N)
	}
}

// BenchmarkAppendSerial: one durable Append at a time (one commit each).
func BenchmarkAppendSerial(b *testing.B) {
	tl := openBenchLog(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := tl.Append(b.Context(), rec(i)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerify: records verified per second.
func BenchmarkVerify(b *testing.B) {
	tl := openBenchLog(b)
	const n = 20000
	for i := 0; i < n; i++ {
		tl.Emit(rec(i))
	}
	tl.Close()
	pub, err := LoadPublicKey(tl.dir)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rep, err := Verify(b.Context(), tl.st, pub)
		if err != nil || !rep.OK() || rep.Records != n {
			b.Fatalf("%v %v", rep, err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}
