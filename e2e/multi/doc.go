// Package multi holds an end-to-end test that three llmux processes sharing
// one PostgreSQL and one Redis behave as one gateway (design.md §4): a key's
// requests per minute and its budget are counted once across all of them, a
// key revoked on one is refused by every one within a second, a route
// changed on one is served by every one within two seconds, and SIGTERM
// loses no usage record.
//
// The package has no code of its own, only tests. They build ./cmd/llmux
// once, run it as `llmux serve --config FILE` against a fake OpenAI
// upstream in the test process that replays the recorded fixtures in
// testdata/fixtures, and drive it with the official OpenAI Go SDK and the
// admin API. Each test gets a fresh PostgreSQL
// schema and an emptied Redis database (number 9, which no other test uses);
// without both services the tests skip, loudly:
//
//	LLMUX_TEST_POSTGRES_DSN=postgres://postgres@127.0.0.1:5432/test?sslmode=disable \
//	LLMUX_TEST_REDIS_ADDR=127.0.0.1:6379 go test -race -count=1 ./e2e/multi
//
// LLMUX_E2E_BIN may name a prebuilt llmux (a file, or a directory holding
// one) to test instead of building ./cmd/llmux. The shutdown test reaches
// Redis through a proxy in the test process that adds 25 ms each way, so
// that work left after the last answer is still running when SIGTERM
// arrives.
//
// It imports of llmux only the store (to read the usage records after the
// processes have exited) and its test database helper; everything else goes
// through a configuration file and HTTP, as a user's deployment would.
package multi
