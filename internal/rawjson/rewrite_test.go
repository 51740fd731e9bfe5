package rawjson

import "testing"

func TestNamesDecodeEscapes(t *testing.T) {
	body := []byte(`{"mo\u0064el":"a","stream":true}`)
	ms, err := Members(body, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ms[0].Name() != "model" || !ms[0].NameIs("model") || ms[0].KeyIs("model") {
		t.Errorf("escaped key: Name %q", ms[0].Name())
	}
	if Index(ms, "model") != 0 || Index(ms, "stream") != 1 || Index(ms, "nope") != -1 {
		t.Error("Index")
	}
	if RawKey(ms, "model") != `mo\u0064el` || RawKey(ms, "absent") != "absent" {
		t.Errorf("RawKey = %q", RawKey(ms, "model"))
	}
}

func TestFieldEdits(t *testing.T) {
	tests := []struct {
		name, body, want, refused string
		drop                      []string
		rename                    map[string]string
		refuse                    []string
	}{
		{name: "drop all spellings", body: `{"user":"u","us\u0065r":"v","m":1}`, drop: []string{"user"}, want: `{"m":1}`},
		{name: "rename", body: `{"max_completion_tokens":5,"m":1}`, rename: map[string]string{"max_completion_tokens": "max_tokens"},
			want: `{"max_tokens":5,"m":1}`},
		{name: "rename onto a present name deletes", body: `{"max_completion_tokens":5,"max_tokens":7}`,
			rename: map[string]string{"max_completion_tokens": "max_tokens"}, want: `{"max_tokens":7}`},
		{name: "refused when set", body: `{"logit_bias":{"1":2}}`, refuse: []string{"logit_bias"}, refused: "logit_bias"},
		{name: "null is not set", body: `{"logit_bias":null}`, refuse: []string{"logit_bias"}, want: `{"logit_bias":null}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms, err := Members([]byte(tt.body), nil)
			if err != nil {
				t.Fatal(err)
			}
			edits, refused := FieldEdits([]byte(tt.body), ms, nil, tt.drop, tt.rename, tt.refuse)
			if refused != tt.refused {
				t.Fatalf("refused %q, want %q", refused, tt.refused)
			}
			if refused != "" {
				return
			}
			if got := string(Apply(nil, []byte(tt.body), ms, edits)); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}
