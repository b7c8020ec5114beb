# The two set-up commands of the README are `make run` and `make test`.
.PHONY: install build run test bench bench-quick native-bench clean

install:
	npm install --no-audit --no-fund

build: install
	npm run build

run: build
	npm start

test: build
	npm test

native-bench: build
	node --expose-gc dist/native-bench/engine.js
	node dist/native-bench/ring.js
	node dist/native-bench/codec.js
	node dist/native-bench/grpc-codec.js

bench: build
	node dist/bench/run.js

bench-quick: build
	node dist/bench/run.js --quick

clean:
	rm -rf dist .tmp
