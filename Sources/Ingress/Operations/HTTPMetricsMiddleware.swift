import HTTPTypes
import Hummingbird
import Metrics

/// `sluice_http_responses_total{class="2xx"|"3xx"|"4xx"|"5xx"}`: every answer of the HTTP API,
/// errors included (they are thrown past this middleware and answered by the server), for the
/// 5xx-rate alert. By class only: paths carry job ids.
struct HTTPMetricsMiddleware<Context: RequestContext>: RouterMiddleware {

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            let response = try await next(request, context)
            Self.count(response.status.code)
            return response
        } catch let error as any HTTPResponseError {
            Self.count(error.status.code)
            throw error
        } catch {
            Self.count(500)
            throw error
        }
    }

    static func count(_ status: Int) {
        let statusClass = (100...599).contains(status) ? "\(status / 100)xx" : "5xx"
        Counter(label: "sluice_http_responses_total", dimensions: [("class", statusClass)]).increment()
    }
}
