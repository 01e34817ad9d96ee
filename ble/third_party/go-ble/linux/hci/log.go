package hci

import (
	"github.com/mgutz/logxi/v1"
)

var logger = log.New("hci")
