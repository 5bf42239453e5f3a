// Errors the API answers with: Fastify turns an error's statusCode into the answer
// {statusCode, error, message}, the same shape as its own validation errors.

export class ApiError extends Error {
  constructor(readonly statusCode: 400 | 404 | 409, message: string) {
    super(message);
    this.name = "ApiError";
  }
}
