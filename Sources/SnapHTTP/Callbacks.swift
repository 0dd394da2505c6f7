import CCurlShim
import Glibc

// libcurl's C callbacks. They live here, as global functions, because a C function
// pointer cannot capture context: the context arrives as the `userdata` pointer.

func snapCurlWriteBody(_ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ context: UnsafeMutableRawPointer?) -> Int {
    guard let data, let context else { return 0 }
    let sink = Unmanaged<ResponseSink>.fromOpaque(context).takeUnretainedValue()
    let n = size * count
    sink.limit?.pace(n)
    if sink.body.isEmpty { sink.bodyStarts(with: n) }
    data.withMemoryRebound(to: UInt8.self, capacity: n) { sink.body.append(contentsOf: UnsafeBufferPointer(start: $0, count: n)) }
    return n
}

func snapCurlWriteHeader(_ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ context: UnsafeMutableRawPointer?) -> Int {
    guard let data, let context else { return 0 }
    let sink = Unmanaged<ResponseSink>.fromOpaque(context).takeUnretainedValue()
    let n = size * count
    let line = data.withMemoryRebound(to: UInt8.self, capacity: n) { String(decoding: UnsafeBufferPointer(start: $0, count: n), as: UTF8.self) }
    if line.hasPrefix("HTTP/") { sink.headers = [:] }  // a new response (after a redirect or 100 Continue)
    if let colon = line.firstIndex(of: ":") {
        let name = line[..<colon].lowercased()
        let value = line[line.index(after: colon)...].trimmingCharacters(in: " \t\r\n")
        sink.headers[name] = value
    }
    return n
}

func snapCurlReadBody(_ buffer: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ context: UnsafeMutableRawPointer?) -> Int {
    guard let buffer, let context else { return 0 }
    let source = Unmanaged<UploadSource>.fromOpaque(context).takeUnretainedValue()
    let n = min(size * count, source.bytes.count - source.offset)
    guard n > 0 else { return 0 }
    source.limit?.pace(n)
    source.bytes.withUnsafeBytes { all in
        UnsafeMutableRawPointer(buffer).copyMemory(from: all.baseAddress! + source.offset, byteCount: n)  // n > 0, so non-empty
    }
    source.offset += n
    return n
}

/// libcurl's `CURL_READFUNC_ABORT`, a macro Swift does not import.
private let readAbort = 0x1000_0000

func snapCurlReadFile(_ buffer: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ context: UnsafeMutableRawPointer?) -> Int {
    guard let buffer, let context else { return readAbort }
    let source = Unmanaged<FileUploadSource>.fromOpaque(context).takeUnretainedValue()
    let wanted = min(size * count, source.file.count - source.offset)
    guard wanted > 0 else { return 0 }
    source.limit?.pace(wanted)
    while true {
        let n = pread(source.file.descriptor, buffer, wanted, off_t(source.offset))
        if n < 0 && errno == EINTR { continue }
        guard n > 0 else {
            source.failure = n == 0 ? "the file ended \(source.file.count - source.offset) bytes early" : String(cString: strerror(errno))
            return readAbort
        }
        source.offset += n
        return n
    }
}

/// Rewinds a file upload (libcurl does so to resend a body, as after a redirect).
func snapCurlSeekFile(_ context: UnsafeMutableRawPointer?, _ offset: curl_off_t, _ origin: Int32) -> Int32 {
    guard let context, origin == SEEK_SET else { return 2 }  // CURL_SEEKFUNC_CANTSEEK
    let source = Unmanaged<FileUploadSource>.fromOpaque(context).takeUnretainedValue()
    guard offset >= 0, offset <= source.file.count else { return 1 }  // CURL_SEEKFUNC_FAIL
    source.offset = Int(offset)
    return 0  // CURL_SEEKFUNC_OK
}

extension String {
    func trimmingCharacters(in characters: String) -> String {
        let set = Set(characters)
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s.removeFirst() }
        while let l = s.last, set.contains(l) { s.removeLast() }
        return String(s)
    }
}

extension Substring {
    func trimmingCharacters(in characters: String) -> String { String(self).trimmingCharacters(in: characters) }
}
