import SnapStorage

extension S3Backend {
    /// Creates the bucket if it does not exist (for `snap init`). A bucket this account
    /// already owns is success; with `objectLock`, the bucket must end up with Object Lock
    /// enabled (checked afterwards), which S3 can only switch on when a bucket is created.
    ///
    /// - Parameter objectLock: creates the bucket with Object Lock (and so versioning) enabled.
    /// - Throws: `StorageError.permanent` when the name belongs to someone else, when an
    ///   existing bucket lacks Object Lock, or when the server refuses.
    public func createBucket(objectLock: Bool = false) throws {
        var headers: [(name: String, value: String)] = []
        if objectLock { headers.append(("x-amz-bucket-object-lock-enabled", "true")) }
        var body: [UInt8] = []
        // Amazon S3 wants the region spelled out everywhere but its first one; other servers
        // have their own region names (or none), so they get no constraint.
        if s3.endpointHost.hasSuffix(".amazonaws.com") && s3.region != "us-east-1" {
            body = Array(("<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                + "<LocationConstraint>\(xmlEscape(s3.region))</LocationConstraint></CreateBucketConfiguration>").utf8)
            headers.append(("content-type", "application/xml"))
        }
        let operation = "create bucket"
        let result = try send(S3Request(method: "PUT", key: nil, headers: headers, body: body), operation: operation, file: nil)
        if (200...299).contains(result.status) {
            // radosgw answers 200 to re-creating a bucket of one's own, Object Lock or not: check.
            if objectLock { try requireObjectLock() }
            return
        }
        let code = S3ErrorBody(result.body)?.code
        guard result.status == 409, code == "BucketAlreadyOwnedByYou" || code == "BucketAlreadyExists" else {
            throw failure(result, operation: operation, file: nil)
        }
        // Some servers answer BucketAlreadyExists for a bucket of one's own: see if it is reachable.
        let probe = try send(S3Request(method: "HEAD", key: nil), operation: operation, file: nil)
        guard probe.status == 200 else {
            throw StorageError.permanent(operation: operation, file: nil, location: location,
                                         detail: "the bucket name \(s3.bucket) is taken by another account; choose another")
        }
        if objectLock { try requireObjectLock() }
    }

    /// Checks that the bucket has Object Lock enabled.
    private func requireObjectLock() throws {
        let operation = "check object lock of"
        let result = try send(S3Request(method: "GET", key: nil, query: [("object-lock", "")]), operation: operation, file: nil)
        let enabled = result.status == 200
            && S3XMLNode.parse(result.body)?.text(of: "ObjectLockEnabled")?.trimmingSpaces() == "Enabled"
        if enabled { return }
        if result.status == 200 || result.status == 404 {
            throw StorageError.permanent(operation: operation, file: nil, location: location,
                                         detail: "the bucket \(s3.bucket) exists without Object Lock, which can only be enabled when a bucket is created; use a new bucket")
        }
        throw failure(result, operation: operation, file: nil)
    }
}
