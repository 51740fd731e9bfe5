package gateway

import (
	_ "github.com/openai/openai-go/v3"
	_ "go.uber.org/goleak"
)
