package migrate

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestLoad(t *testing.T) {
	file := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	tests := []struct {
		name  string
		files fstest.MapFS
		want  []int  // versions
		err   string // error substring
	}{
		{"ordered", fstest.MapFS{"m/0002_b.sql": file("B"), "m/0001_a.sql": file("A"), "m/README": file("x")}, []int{1, 2}, ""},
		{"gap", fstest.MapFS{"m/0001_a.sql": file("A"), "m/0003_c.sql": file("C")}, nil, "expected version 2"},
		{"duplicate", fstest.MapFS{"m/0001_a.sql": file("A"), "m/0001_b.sql": file("B")}, nil, "same version"},
		{"bad name", fstest.MapFS{"m/1_a.sql": file("A")}, nil, "NNNN_description.sql"},
		{"no underscore", fstest.MapFS{"m/0001.sql": file("A")}, nil, "NNNN_description.sql"},
		{"zero", fstest.MapFS{"m/0000_a.sql": file("A")}, nil, "NNNN_description.sql"},
		{"empty file", fstest.MapFS{"m/0001_a.sql": file(" \n")}, nil, "is empty"},
		{"none", fstest.MapFS{"m/x.txt": file("A")}, nil, "no migrations"},
		{"no dir", fstest.MapFS{}, nil, "migrate:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Load(tt.files, "m")
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d migrations, want %d", len(got), len(tt.want))
			}
			for i, m := range got {
				if m.Version != tt.want[i] || m.SQL == "" {
					t.Errorf("migration %d = %+v", i, m)
				}
			}
		})
	}
}

func TestPending(t *testing.T) {
	all := []Migration{{Version: 1}, {Version: 2}, {Version: 3}}
	got := Pending(all, map[int]bool{1: true, 3: true})
	if len(got) != 1 || got[0].Version != 2 {
		t.Fatalf("Pending = %+v", got)
	}
}
