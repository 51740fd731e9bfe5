package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/llmux/llmux/bench/load"
	"github.com/llmux/llmux/bench/mock"
	"github.com/llmux/llmux/bench/proc"
	"github.com/llmux/llmux/bench/report"
)

// upstream is a mock server for one measurement.
type upstream struct {
	srv *http.Server
	url string
}

func startMock(opts mock.Options) (*upstream, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: mock.New(opts), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return &upstream{srv: srv, url: "http://" + ln.Addr().String()}, nil
}

func (u *upstream) close() { u.srv.Close() }

// measure runs scenario sc against one target: a fresh mock, a fresh
// gateway process started by l (none for report.Direct), a warm-up, and
// the measured load.
func (r *runner) measure(ctx context.Context, sc *scenario, target string, l launcher) (*report.Row, error) {
	o := r.o
	mo := mock.Options{Chunks: o.Chunks, ChunkDelay: o.ChunkDelay}
	if sc.kind == report.Hold {
		mo = mock.Options{Chunks: o.StreamChunks, ChunkDelay: o.StreamInterval}
	}
	up, err := startMock(mo)
	if err != nil {
		return nil, err
	}
	defer up.close()

	base, c := up.url, sc.upstream
	var p *process
	if target != report.Direct {
		addr, err := freeAddr()
		if err != nil {
			return nil, err
		}
		dir := filepath.Join(r.dir, sc.id+"-"+target)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		p, err = l.start(ctx, addr, up.url, dir)
		if err != nil {
			return nil, err
		}
		defer func() {
			if err := p.stop(); err != nil {
				r.note("%s, %s: %v", sc.id, target, err)
			}
		}()
		base, c = "http://"+addr, sc.client
	}
	row := &report.Row{Target: target}
	req := c.request(base, mo.Chunks)
	switch sc.kind {
	case report.Hold:
		warm := openaiChat(modelOpenAI, false).request(base, 0)
		err = r.hold(ctx, row, p, warm, req)
	case report.Open:
		err = r.open(ctx, row, p, req)
	default:
		err = r.closed(ctx, row, p, req)
	}
	return row, err
}

// window reads the gateway before and after run, and fills row with what
// run measured and what the gateway spent meanwhile.
//
// It also reads how busy the benchmark process itself was, and how much CPU
// other processes on the machine took meanwhile, which disturbs every
// figure.
func (r *runner) window(row *report.Row, p *process, run func() *load.Result) error {
	var before proc.Sample
	if p != nil {
		var err error
		if before, err = p.sample(); err != nil {
			return err
		}
	}
	self0, err0 := proc.ReadStat(os.Getpid())
	sys0, err1 := proc.ReadSystemCPU()
	res := run()
	fill(row, res)
	self1, err2 := proc.ReadStat(os.Getpid())
	sys1, err3 := proc.ReadSystemCPU()
	var after proc.Sample
	if p != nil {
		var err error
		if after, err = p.sample(); err != nil {
			return err
		}
		if ok := res.OK(); ok > 0 {
			row.CPU = proc.TicksToDuration(after.Ticks-before.Ticks, r.hz) / time.Duration(ok)
			row.HasCPU = true
		}
		row.PeakRSS = after.HWM
	}
	if errors.Join(err0, err1, err2, err3) != nil || res.Elapsed <= 0 {
		return nil // the measurement stands without these readings
	}
	ticks := res.Elapsed.Seconds() * float64(r.hz) // per CPU
	mine := self1.Ticks() - self0.Ticks()
	row.GeneratorBusy = float64(mine) / ticks / float64(runtime.GOMAXPROCS(0))
	ours := mine + after.Ticks - before.Ticks
	if all := sys1.Tasks() - sys0.Tasks(); all > ours {
		row.OthersBusy = float64(all-ours) / ticks / float64(runtime.NumCPU())
	}
	return nil
}

func fill(row *report.Row, res *load.Result) {
	row.Calls, row.Errors, row.ErrorKinds = res.Calls, res.Errors, res.ErrorKinds
	row.Rate, row.Late = res.Rate(), res.Late
	row.P50, row.P99 = res.Latency.Quantile(0.5), res.Latency.Quantile(0.99)
	row.TTFT50, row.TTFT99 = res.TTFT.Quantile(0.5), res.TTFT.Quantile(0.99)
	row.Gap50, row.Gap99 = res.Gaps.Quantile(0.5), res.Gaps.Quantile(0.99)
}

// warmUp sends load for the warm-up time and fails when nothing got
// through, which means the target is broken, not slow.
func warmUp(ctx context.Context, l interface {
	Run(context.Context, *load.Request) *load.Result
}, req *load.Request) error {
	res := l.Run(ctx, req)
	if res.Calls > 0 && res.OK() == 0 {
		return fmt.Errorf("every warm-up call failed: %v", res.ErrorKinds)
	}
	return nil
}

func (r *runner) closed(ctx context.Context, row *report.Row, p *process, req *load.Request) error {
	client := load.NewClient(r.o.Concurrency)
	defer client.CloseIdleConnections()
	loop := load.Closed{Client: client, Concurrency: r.o.Concurrency, Duration: r.o.Warmup}
	if err := warmUp(ctx, loop, req); err != nil {
		return err
	}
	loop.Duration = r.o.Duration
	return r.window(row, p, func() *load.Result { return loop.Run(ctx, req) })
}

func (r *runner) open(ctx context.Context, row *report.Row, p *process, req *load.Request) error {
	client := load.NewClient(256)
	defer client.CloseIdleConnections()
	loop := load.Open{Client: client, Rate: r.o.OpenRate, Duration: r.o.Warmup}
	if err := warmUp(ctx, loop, req); err != nil {
		return err
	}
	loop.Duration = r.o.Duration
	return r.window(row, p, func() *load.Result { return loop.Run(ctx, req) })
}

// hold warms the gateway with a few quick calls, reads its memory, opens
// the slow streams and reads its memory again while all are open.
func (r *runner) hold(ctx context.Context, row *report.Row, p *process, warm, req *load.Request) error {
	if p == nil {
		return errors.New("held streams need a gateway process")
	}
	client := load.NewClient(4)
	if err := warmUp(ctx, load.Closed{Client: client, Concurrency: 4, Duration: r.o.Warmup / 2}, warm); err != nil {
		return err
	}
	client.CloseIdleConnections()
	time.Sleep(200 * time.Millisecond) // let the closed connections go
	before, err := p.sample()
	if err != nil {
		return err
	}
	row.RSSBefore = before.RSS
	streams := load.NewClient(16)
	defer streams.CloseIdleConnections()
	var sampleErr error
	h := load.Hold{Client: streams, Streams: r.o.Streams, Ramp: r.o.Ramp, OnHeld: func(open int) {
		row.Open = open
		// The highest of a few readings, while every stream is open.
		for i := range 4 {
			if i > 0 {
				time.Sleep(150 * time.Millisecond)
			}
			s, err := p.sample()
			if err != nil {
				sampleErr = err
				return
			}
			row.RSSHeld = max(row.RSSHeld, s.RSS)
		}
	}}
	if err := r.window(row, p, func() *load.Result { return h.Run(ctx, req) }); err != nil {
		return err
	}
	row.HasCPU = false // a held stream is mostly waiting; its CPU is not the point here
	if row.Open < r.o.Streams {
		r.note("%s: only %d of %d streams were open at once when memory was read", row.Target, row.Open, r.o.Streams)
	}
	return sampleErr
}
