import Foundation
import HTTPTypes
import Hummingbird
import KeelCore
import KeelService
import KeelStore

/// `POST /v1/callbacks/resources?name=N`: a worker's file, streamed into the resource store as a
/// resource of the token's run, step and attempt, for its callback to name in `resources`.
///
/// The body is never held in memory whole; repeating an upload is harmless (content is addressed by
/// its SHA-256). `Keel-Content-SHA256` makes the gateway refuse bytes that arrived damaged.
struct CallbackUploads: Sendable {
    let resources: ResourceStore
    /// The largest file taken (`KEEL_CALLBACK_UPLOAD_MAX_BYTES`).
    let maximumBytes: Int64

    static let digestHeader = HTTPField.Name("Keel-Content-SHA256")!

    func upload(_ request: Request, token: String?, receiver: CallbackReceiver) async throws -> CallbackReply
    {
        let claims: CallbackClaims
        switch receiver.verify(token) {
        case .success(let verified): claims = verified
        case .failure(let reply): return receiver.record(reply, via: .http)
        }
        var errors: [ProblemDetails.FieldError] = []
        let name = request.uri.queryParameters.get("name") ?? ""
        if !CallbackResourceName.isValid(name) {
            errors.append(.init(pointer: "name", detail: "expected " + CallbackResourceName.rule))
        }
        let mediaType = request.headers[.contentType].map(Self.bareMediaType) ?? ResourceMediaType.fallback
        if !ResourceMediaType.isValid(mediaType) {
            errors.append(.init(pointer: "Content-Type", detail: "expected a media type, type/subtype"))
        }
        let expected = request.headers[Self.digestHeader]?.lowercased()
        if let expected, ResourceReference(sha256: expected) == nil {
            errors.append(.init(pointer: "Keel-Content-SHA256", detail: "expected 64 lowercase hex digits"))
        }
        let runID = claims.run
        guard errors.isEmpty else {
            return await receiver.record(.invalid(errors), claims: claims, via: .http)
        }
        let limit = maximumBytes
        let chunks = request.body.map { Array(buffer: $0) }
        let record: ResourceRecord
        do {
            record = try await resources.put(
                LimitedChunks(base: chunks, limit: limit),
                description: ResourceDescription(
                    name: name, mediaType: mediaType,
                    producer: ResourceProducer(runID: runID, step: claims.step, attempt: claims.attempt)),
                expectedSHA256: expected)
        } catch is UploadTooLarge {
            return await receiver.record(
                .problem(
                    ProblemDetails(
                        status: .contentTooLarge, type: "/problems/upload-too-large",
                        title: "Upload too large",
                        detail: "An upload is at most \(limit) bytes (KEEL_CALLBACK_UPLOAD_MAX_BYTES)."),
                    outcome: "invalid"), claims: claims, via: .http)
        } catch ResourceStoreError.digestMismatch(_, let actual) {
            return await receiver.record(
                .invalid([
                    .init(
                        pointer: "Keel-Content-SHA256",
                        detail: "the body's SHA-256 is \(actual); nothing was stored")
                ]), claims: claims, via: .http)
        }
        return CallbackReply(
            status: 201,
            body: [
                "resource": .string(record.reference.description), "name": .string(name),
                "media_type": .string(record.mediaType), "size": .number(JSONNumber(record.size)),
                "sha256": .string(record.reference.sha256),
            ], outcome: "uploaded")
    }

    /// `text/plain; charset=utf-8` → `text/plain`.
    static func bareMediaType(_ header: String) -> String {
        String(header.split(separator: ";", maxSplits: 1).first ?? "").trimmingCharacters(in: .whitespaces)
            .lowercased()
    }
}

/// The upload went over the size limit.
private struct UploadTooLarge: Error {}

/// A body's chunks, ending the upload with `UploadTooLarge` once more than `limit` bytes arrived.
private struct LimitedChunks<Base: AsyncSequence>: AsyncSequence where Base.Element == [UInt8] {
    typealias Element = [UInt8]
    let base: Base
    let limit: Int64

    func makeAsyncIterator() -> Iterator { Iterator(base: base.makeAsyncIterator(), limit: limit) }

    struct Iterator: AsyncIteratorProtocol {
        var base: Base.AsyncIterator
        let limit: Int64
        var received: Int64 = 0

        mutating func next() async throws -> [UInt8]? {
            guard let chunk = try await base.next() else { return nil }
            received += Int64(chunk.count)
            if received > limit { throw UploadTooLarge() }
            return chunk
        }
    }
}
