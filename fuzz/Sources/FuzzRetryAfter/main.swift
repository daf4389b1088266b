import FuzzDriver

runFuzzer { data, size in fuzzRetryAfter(data, size) }
