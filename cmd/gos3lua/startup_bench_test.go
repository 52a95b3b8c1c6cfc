package main

import "testing"

// BenchmarkMainEmpty is `gos3lua -e ""` in process, warm: what Main costs
// once page faults and the first use of each package are paid (bench/host.sh
// measures the cold process).
func BenchmarkMainEmpty(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if Main([]string{"-e", ""}) != 0 {
			b.Fatal("failed")
		}
	}
}
