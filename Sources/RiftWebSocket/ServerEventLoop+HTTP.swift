internal import CRiftWebSockets

extension ServerEventLoop {
    /// A plain HTTP request arrived: writes the handler's status and headers now and the body
    /// when the connection is writeable. Only `GET` reaches the handler; other methods get 405
    /// and the connection is closed (so that a request body is never read).
    func httpRequested(_ wsi: OpaquePointer, path: UnsafeRawBufferPointer) -> Int32 {
        guard lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) > 0 else {
            _ = lws_return_http_status(wsi, 405, nil)
            return -1
        }
        let response = handler?.httpRequest(path: String(decoding: path, as: UTF8.self)) ?? .notFound
        guard writeHeaders(of: response, to: wsi) else { return -1 }
        if response.body.isEmpty {
            return lws_http_transaction_completed(wsi) != 0 ? -1 : 0
        }
        pendingHTTPBodies[wsi] = response.body
        lws_callback_on_writable(wsi)
        return 0
    }

    /// Writes the body of the response waiting on `wsi` and ends the HTTP transaction:
    /// keep-alive connections wait for the next request, others close.
    func httpWriteable(_ wsi: OpaquePointer) -> Int32 {
        guard let body = pendingHTTPBodies.removeValue(forKey: wsi) else { return 0 }
        guard writer.write(body, to: wsi, as: LWS_WRITE_HTTP_FINAL) else { return -1 }
        return lws_http_transaction_completed(wsi) != 0 ? -1 : 0
    }

    /// Writes the status line, `Content-Type` and `Content-Length`; false when lws failed.
    private func writeHeaders(of response: HTTPResponse, to wsi: OpaquePointer) -> Bool {
        let headroom = CRiftWebSockets_pre()
        let status = (100...599).contains(response.status) ? UInt32(response.status) : 500
        var headers = [UInt8](repeating: 0, count: headroom + 512 + response.contentType.utf8.count)
        return headers.withUnsafeMutableBufferPointer { buffer -> Bool in
            let start = buffer.baseAddress! + headroom
            let end = buffer.baseAddress! + buffer.count - 1
            var cursor: UnsafeMutablePointer<UInt8>? = start
            let length = lws_filepos_t(response.body.utf8.count)
            guard lws_add_http_common_headers(wsi, status, response.contentType, length, &cursor, end) == 0,
                lws_finalize_write_http_header(wsi, start, &cursor, end) == 0
            else { return false }
            return true
        }
    }
}
