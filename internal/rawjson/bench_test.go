package rawjson

import (
	"encoding/json"
	"strings"
	"testing"
)

var benchDoc = []byte(`{"model":"fast","temperature":0.3,"messages":[{"role":"system","content":"` +
	strings.Repeat("You are a careful assistant for an online store. ", 16) + `"},{"role":"user","content":"Where is my order 48213? \"Quoted\" and \\ escaped \u00e9."}],` +
	`"tools":[{"type":"function","function":{"name":"order_status","parameters":{"type":"object","properties":{"order_id":{"type":"string"}},"required":["order_id"]}}}],"max_tokens":512,"stream":true}`)

func BenchmarkMembers(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchDoc)))
	var buf [16]Member
	for i := 0; i < b.N; i++ {
		if _, err := Members(benchDoc, buf[:0]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStdValid is the standard library's validator on the same
// document, for scale.
func BenchmarkStdValid(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchDoc)))
	for i := 0; i < b.N; i++ {
		if !json.Valid(benchDoc) {
			b.Fatal("invalid")
		}
	}
}
