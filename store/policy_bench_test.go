package store_test

import (
	"runtime"
	"testing"
	"time"

	"postern/access"
	"postern/store/storetest"
)

// BenchmarkLoadPolicy reads the large site's policy whole, as serve does at
// start-up, and reports the memory it holds (policy-MB) and how long a full
// garbage collection then takes with it live (gc-ms).
func BenchmarkLoadPolicy(b *testing.B) {
	s, _ := storetest.Open(b, storetest.Large)
	var p *access.Policy
	var heap uint64
	// Before the first load: the store holds no policy yet. Each load
	// replaces the last, which the collection after it frees.
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for b.Loop() {
		var err error
		if p, err = s.LoadPolicy(b.Context()); err != nil {
			b.Fatal(err)
		}
		var after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&after)
		heap = after.HeapAlloc - before.HeapAlloc
	}
	start := time.Now()
	runtime.GC()
	b.ReportMetric(float64(time.Since(start).Microseconds())/1000, "gc-ms")
	b.ReportMetric(float64(heap)/1e6, "policy-MB")
	runtime.KeepAlive(p)
}
