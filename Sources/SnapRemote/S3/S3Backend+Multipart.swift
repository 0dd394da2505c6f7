import SnapStorage

extension S3Backend {
    /// Uploads `data` in parts: CreateMultipartUpload, one UploadPart per `partSize` bytes
    /// (each with its own `Content-MD5` and signed SHA-256), CompleteMultipartUpload. The
    /// object appears only when the upload completes; on any failure the upload is aborted
    /// so no parts are left behind, and the first error is thrown.
    ///
    /// With `Options.ifNoneMatch`, an existing object is looked for first: radosgw 16.2
    /// ignores `If-None-Match` on CompleteMultipartUpload (Amazon S3 honours it, and gets it
    /// too), so without the look a completed upload would silently replace the object.
    func writeMultipart(_ file: FileName, data: [UInt8]) throws {
        if options.ifNoneMatch {
            do {
                try confirmExisting(file, size: data.count)
                return
            } catch StorageError.notFound {
                // Not there yet: upload.
            }
        }
        let key = objectKey(file)
        let retainUntil = retainUntil()
        // Grow the parts if the file would need more than S3's 10,000.
        let partSize = max(options.partSize, (data.count + Self.maximumParts - 1) / Self.maximumParts)

        let started = try send(S3Request(method: "POST", key: key, query: [("uploads", "")],
                                         headers: [("content-type", "application/octet-stream")] + creationHeaders(retainUntil: retainUntil),
                                         body: []),
                               operation: "start multipart upload of", file: file)
        guard started.status == 200 else { throw failure(started, operation: "start multipart upload of", file: file) }
        guard let document = S3XMLNode.parse(started.body), document.name == "InitiateMultipartUploadResult",
              let uploadID = document.text(of: "UploadId")?.trimmingSpaces(), !uploadID.isEmpty else {
            throw StorageError.transient(operation: "start multipart upload of", file: file, location: location,
                                         detail: "the response names no UploadId")
        }

        do {
            var parts: [(number: Int, etag: String)] = []
            var offset = 0
            while offset < data.count {
                let end = min(offset + partSize, data.count)
                let number = parts.count + 1
                let body = Array(data[offset..<end])
                let uploaded = try send(S3Request(method: "PUT", key: key,
                                                  query: [("partNumber", String(number)), ("uploadId", uploadID)],
                                                  headers: try integrityHeaders(for: body, file: file), body: body),
                                        operation: "upload part \(number) of", file: file)
                guard uploaded.status == 200 else { throw failure(uploaded, operation: "upload part \(number) of", file: file) }
                guard let etag = uploaded.headers["etag"], !etag.isEmpty else {
                    throw StorageError.transient(operation: "upload part \(number) of", file: file, location: location,
                                                 detail: "the response has no ETag")
                }
                parts.append((number, etag))
                offset = end
            }
            try complete(file, key: key, uploadID: uploadID, parts: parts, size: data.count)
        } catch {
            abortUpload(key: key, uploadID: uploadID)
            throw error
        }
        if let lock = options.objectLock, let retainUntil {
            try applyRetention(file, key: key, mode: lock.mode, until: retainUntil)
        }
    }

    /// PutObjectRetention. radosgw 16.2 ignores the retention headers of CreateMultipartUpload
    /// (Amazon S3 applies them), so a multipart object gets its retention set again, to the
    /// same date, which both accept.
    private func applyRetention(_ file: FileName, key: String, mode: Options.LockMode, until: String) throws {
        let body = Array(("<Retention xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Mode>\(mode.rawValue)</Mode>"
            + "<RetainUntilDate>\(until)</RetainUntilDate></Retention>").utf8)
        let operation = "set retention of"
        let result = try send(S3Request(method: "PUT", key: key, query: [("retention", "")],
                                        headers: try integrityHeaders(for: body, file: file, contentType: "application/xml"),
                                        body: body),
                              operation: operation, file: file)
        guard (200...299).contains(result.status) else { throw failure(result, operation: operation, file: file) }
    }

    /// CompleteMultipartUpload. S3 may answer 200 and still report an error in the body, so
    /// the body is checked too.
    private func complete(_ file: FileName, key: String, uploadID: String, parts: [(number: Int, etag: String)], size: Int) throws {
        let list = parts.map { "<Part><PartNumber>\($0.number)</PartNumber><ETag>\(xmlEscape($0.etag))</ETag></Part>" }.joined()
        let body = Array("<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\(list)</CompleteMultipartUpload>".utf8)
        var headers: [(name: String, value: String)] = [("content-type", "application/xml")]
        if options.ifNoneMatch { headers.append(("if-none-match", "*")) }
        let operation = "complete multipart upload of"
        let done = try send(S3Request(method: "POST", key: key, query: [("uploadId", uploadID)], headers: headers, body: body),
                            operation: operation, file: file)
        if done.status == 412 && options.ifNoneMatch {
            try confirmExisting(file, size: size)
            abortUpload(key: key, uploadID: uploadID)
            return
        }
        guard done.status == 200 else { throw failure(done, operation: operation, file: file) }
        let root = S3XMLNode.parse(done.body)
        if root?.name == "CompleteMultipartUploadResult" { return }
        if root?.name == "Error" {
            // A 200 whose body is an error: classify by its code (as a server error when it has none).
            throw S3ErrorMapping.error(status: 500, headers: done.headers, body: done.body,
                                       operation: operation, file: file, location: location)
        }
        throw StorageError.transient(operation: operation, file: file, location: location,
                                     detail: "the response is not a CompleteMultipartUploadResult document")
    }

    /// AbortMultipartUpload, best effort: a failure here leaves parts that the bucket's
    /// lifecycle rules (or a later abort) clean up, and must not hide the original error.
    func abortUpload(key: String, uploadID: String) {
        _ = try? send(S3Request(method: "DELETE", key: key, query: [("uploadId", uploadID)]),
                      operation: "abort multipart upload", file: nil)
    }
}
